// The shop's look on the community page and the moderator console: its name and logo in
// the header, its colours as CSS custom properties (the darkened ones the API gives for
// text, so white on them reaches 4.5:1), and its "How it works" text, as text.
import { el, gql } from "/static/api.js";

const SHOP = "query Shop { shop { name primaryTextColor accentTextColor faq logoUrl } }";

// Paragraphs are separated by a blank line; single line breaks stay inside one (CSS
// white-space: pre-line). textContent only: the owner's text is never read as HTML.
function paragraphs(text) {
  return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean).map((p) => el("p", {}, p));
}

export async function applyShop({ brand, faq } = {}) {
  const { shop } = await gql(SHOP);
  const root = document.documentElement.style;
  root.setProperty("--accent", shop.primaryTextColor);
  root.setProperty("--gold", shop.accentTextColor);
  if (brand) {
    const logo = shop.logoUrl ? el("img", { src: shop.logoUrl, alt: "", class: "shop-logo" }) : null;
    brand.replaceChildren(...[logo, el("span", { class: "shop-name" }, shop.name)].filter(Boolean));
    brand.hidden = false;
  }
  if (faq) {
    const shown = paragraphs(shop.faq);
    faq.box.replaceChildren(...shown);
    faq.section.hidden = shown.length === 0;
  }
  return shop;
}
