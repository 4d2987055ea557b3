"""The shop's look and FAQ: a public query, and the owner's mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import PermissionDeniedError, ValidationError
from schema.runner import OWN_TEXT_RULES, arguments, caller, field, mutation
from server.actions.shop import ShopLook, set_shop_logo, shop_look, update_shop

__all__ = ["ShopMutations", "ShopQueries"]


@strawberry.type(
    description="The shop's name, colours, logo and rules text, as its owner set them."
)
class Shop:
    name: str
    primary_color: str = strawberry.field(description="#rrggbb: the header and buttons.")
    accent_color: str = strawberry.field(description="#rrggbb: highlights.")
    primary_text_color: str = strawberry.field(
        description="primaryColor, darkened if needed to a 4.5:1 contrast with white "
        "(WCAG AA): for white text on it and for it as text on white."
    )
    accent_text_color: str = strawberry.field(description="accentColor, darkened the same way.")
    faq: str = strawberry.field(
        description="The owner's rules and answers: plain text (not HTML), paragraphs "
        "separated by a blank line; empty when none."
    )
    logo_url: str | None = strawberry.field(description="Null when the shop has no logo.")

    @strawberry.field(
        description="Days points stay spendable once they are (LAUREL_POINTS_EXPIRE_DAYS); "
        "0: they never expire."
    )
    def points_expire_days(self, info: Info) -> int:
        return info.context.services.points_expire_days

    @classmethod
    def of(cls, look: ShopLook) -> Shop:
        version = look.logo_version
        return cls(
            name=look.name,
            primary_color=look.primary_color,
            accent_color=look.accent_color,
            primary_text_color=look.primary_text_color,
            accent_text_color=look.accent_text_color,
            faq=look.faq,
            logo_url=None if version is None else f"/shop/logo.png?v={version}",
        )


@strawberry.type
class ShopSaved:
    shop: Shop


UpdateShopResult = Annotated[
    ShopSaved | ValidationError | PermissionDeniedError, strawberry.union("UpdateShopResult")
]


@strawberry.input(description="Only the fields given change.")
class UpdateShopInput:
    name: str | None = None
    primary_color: str | None = strawberry.field(default=None, description="#rrggbb")
    accent_color: str | None = strawberry.field(default=None, description="#rrggbb")
    faq: str | None = strawberry.field(
        default=None, description="Plain text of at most 5,000 characters; empty removes it."
    )


@strawberry.input
class SetShopLogoInput:
    image: str | None = strawberry.field(
        default=None,
        description="Base64 of a PNG, JPEG or WebP file of at most 1 MB and 4096 px a side; "
        "stored as a PNG of at most 512 px on its long side. Null removes the logo.",
        metadata=OWN_TEXT_RULES,
    )


@strawberry.type
class ShopQueries:
    @field(description="The shop's name, colours, logo and rules text (public).")
    async def shop(self, info: Info) -> Shop:
        return Shop.of(await shop_look(info.context.services))


@strawberry.type
class ShopMutations:
    @mutation(description="ADMIN: the shop's name, colours or rules text.")
    async def update_shop(self, info: Info, input: UpdateShopInput) -> UpdateShopResult:
        return ShopSaved(shop=Shop.of(await update_shop(*caller(info), **arguments(input))))

    @mutation(description="ADMIN: set or remove (null) the shop's logo.")
    async def set_shop_logo(self, info: Info, input: SetShopLogoInput) -> UpdateShopResult:
        done = await set_shop_logo(info.context.services, info.context.principal, input.image)
        return ShopSaved(shop=Shop.of(done))
