"""The shop's look and FAQ: anyone reads them (the pages' header and "How it works");
ADMIN changes them. The logo is checked and drawn again like a prize picture."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.actions.common import require
from server.actions.prize_images import StoredImage
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import pictures
from server.rewards import shop as rules
from server.rewards.errors import NotFound
from server.rewards.shop import SHOP_ROW, ShopLogo, ShopProfile
from server.rewards.text import msg

__all__ = ["ShopLook", "set_shop_logo", "shop_logo", "shop_look", "update_shop"]


@dataclass(frozen=True, slots=True)
class ShopLook:
    """What the pages show of the shop; the colours also darkened for text (4.5:1)."""

    name: str
    primary_color: str
    accent_color: str
    faq: str
    logo_version: str | None

    @property
    def primary_text_color(self) -> str:
        return rules.readable_on_white(self.primary_color)

    @property
    def accent_text_color(self) -> str:
        return rules.readable_on_white(self.accent_color)


def _look(row: ShopProfile | None, default_name: str) -> ShopLook:
    if row is None:
        return ShopLook(default_name, rules.DEFAULT_PRIMARY, rules.DEFAULT_ACCENT, "", None)
    return ShopLook(row.name, row.primary_color, row.accent_color, row.faq, row.logo_version)


async def shop_look(svc: Services) -> ShopLook:
    """The shop as the owner set it; before that, ``LAUREL_SHOP_NAME`` and the defaults."""
    return _look(await ShopProfile.get_or_none(id=SHOP_ROW), svc.shop_name)


async def _row(svc: Services, principal: Principal) -> ShopProfile:
    row, _ = await ShopProfile.get_or_create(
        id=SHOP_ROW, defaults={"name": svc.shop_name, "updated_by": principal.actor}
    )
    return row


async def update_shop(
    svc: Services,
    principal: Principal,
    *,
    name: str | None = None,
    primary_color: str | None = None,
    accent_color: str | None = None,
    faq: str | None = None,
) -> ShopLook:
    """ADMIN: change the fields given; every one is checked before any is saved."""
    require(principal, Role.ADMIN)
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = rules.clean_name(name)
    if primary_color is not None:
        changes["primary_color"] = rules.clean_colour("primaryColor", primary_color)
    if accent_color is not None:
        changes["accent_color"] = rules.clean_colour("accentColor", accent_color)
    if faq is not None:
        changes["faq"] = rules.clean_faq(faq)
    await _row(svc, principal)
    if changes:
        await ShopProfile.filter(id=SHOP_ROW).update(**changes, updated_by=principal.actor)
    return await shop_look(svc)


async def set_shop_logo(svc: Services, principal: Principal, image: str | None) -> ShopLook:
    """ADMIN: the logo from a base64 PNG, JPEG or WebP (the prize picture rules: at most
    1 MB, 4096 px a side, kept as a PNG of at most 512 px); ``None`` removes it."""
    require(principal, Role.ADMIN)
    await _row(svc, principal)
    if image is None:
        async with in_transaction():
            await ShopProfile.filter(id=SHOP_ROW).update(
                logo_version=None, updated_by=principal.actor
            )
            await ShopLogo.filter(id=SHOP_ROW).delete()
        return await shop_look(svc)
    data = pictures.decode_upload("image", image)
    picture = await asyncio.to_thread(pictures.picture_of, "image", data)
    stored: dict[str, Any] = {"png": picture.png, "width": picture.width, "height": picture.height}
    async with in_transaction():
        await ShopProfile.filter(id=SHOP_ROW).update(
            logo_version=picture.version, updated_by=principal.actor
        )
        if not await ShopLogo.filter(id=SHOP_ROW).update(**stored):
            await ShopLogo.create(id=SHOP_ROW, **stored)
    return await shop_look(svc)


async def shop_logo() -> StoredImage:
    """The logo's PNG and ETag; ``NotFound`` when the shop has none."""
    rows = await ShopLogo.filter(id=SHOP_ROW).values_list("png", flat=True)
    if not rows:
        raise NotFound(msg("The shop has no logo."))
    png = bytes(rows[0])
    return StoredImage(png=png, etag=f'"{pictures.version_of(png)}"')
