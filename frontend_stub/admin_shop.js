// The owner's console: the shop's look (name, colours, logo) and its rules/FAQ text, as
// the community page and the moderator console show them.
import { el, gql, toast } from "/static/api.js";
import { form, pictureBase64 } from "/static/admin_forms.js";

const ERR = "... on Error { message } ... on ValidationError { field }";
const SHOP = "query { shop { name primaryColor accentColor primaryTextColor faq logoUrl } }";

export async function loadShopSettings(box, key) {
  const { shop } = await gql(SHOP, {}, key);
  const made = form({
    label: "Shop",
    fields: [
      { name: "name", label: "Shop name", value: shop.name, required: true },
      { name: "primaryColor", label: "Main colour", type: "color", value: shop.primaryColor,
        hint: "Header and buttons. A colour too light for white text is darkened on the pages (WCAG AA, 4.5:1)." },
      { name: "accentColor", label: "Accent colour", type: "color", value: shop.accentColor },
      { name: "faq", label: "How it works (your rules and answers)", type: "textarea", value: shop.faq,
        hint: "Plain text, at most 5,000 characters; leave a blank line between paragraphs." },
      { name: "logo", label: "Logo (PNG, JPEG or WebP)", type: "file", accept: "image/png,image/jpeg,image/webp" },
      { name: "removeLogo", label: "Remove the logo", type: "checkbox", value: false },
    ],
    success: "ShopSaved",
    submit: async ({ logo, removeLogo, ...values }) => {
      const { updateShop } = await gql(`mutation($i: UpdateShopInput!) { updateShop(input: $i) { __typename ${ERR} } }`, { i: values }, key);
      if (updateShop.__typename !== "ShopSaved" || (!logo && !removeLogo)) return updateShop;
      const image = removeLogo ? null : await pictureBase64(logo);
      const { setShopLogo } = await gql(`mutation($i: SetShopLogoInput!) { setShopLogo(input: $i) { __typename ${ERR} } }`, { i: { image } }, key);
      return setShopLogo.__typename === "ShopSaved" ? setShopLogo : { ...setShopLogo, field: "logo" };
    },
    done: async () => { toast("Shop saved."); await loadShopSettings(box, key); },
  });
  const logo = shop.logoUrl ? el("img", { src: shop.logoUrl, alt: "Current logo", class: "shop-logo-preview" }) : null;
  box.replaceChildren(...[logo, made.node].filter(Boolean));
}
