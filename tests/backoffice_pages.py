"""Helpers for the back-office page tests: the users of each kind, and a small HTML reader.

The reader builds a tree with the standard library's HTMLParser, enough to find elements by tag,
id, class or data attribute and read their text, as the browser tests do with selectors.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def with_permissions(user, *names: str):
    """`names` as "app_label.codename"."""
    for name in names:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def finance_user(**extra):
    """A read-only finance user: staff, in the Finance group made by the migration."""
    user = UserFactory(**extra)
    user.groups.add(Group.objects.get(name="Finance"))
    return user


def cashier_user(**extra):
    """Staff who may record and reverse payments (not a superuser)."""
    return with_permissions(
        UserFactory(**extra),
        "payments.view_payment",
        "payments.add_payment",
        "payments.add_reversal",
    )


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list["Element | str"] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def matches(self, tag: str | None, class_: str | None, attrs: dict) -> bool:
        if tag is not None and self.tag != tag:
            return False
        if class_ is not None and class_ not in self.classes:
            return False
        return all(
            (name in self.attrs) if value is True else self.attrs.get(name) == str(value)
            for name, value in attrs.items()
        )

    def find_all(self, tag: str | None = None, class_: str | None = None, **attrs):
        """Descendants matching; attribute names with "_" stand for "-" (data_currency)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if child.matches(tag, class_, wanted):
                    found.append(child)
                found.extend(child.find_all(tag, class_, **attrs))
        return found

    def find(self, tag: str | None = None, class_: str | None = None, **attrs) -> "Element":
        """The one descendant matching (fails if there are none or several)."""
        found = self.find_all(tag, class_, **attrs)
        assert len(found) == 1, f"{len(found)} elements match {tag} {class_} {attrs}"
        return found[0]

    def by_id(self, element_id: str) -> "Element":
        return self.find(id=element_id)

    def row_ids(self, table_id: str, attribute: str) -> list[int]:
        """The `attribute` (e.g. "data-invoice-id") of the table's body rows, in order."""
        body = self.by_id(table_id).find("tbody")
        return [int(row.attrs[attribute]) for row in body.find_all("tr") if attribute in row.attrs]

    def cells(self, row: "Element") -> list[str]:
        return [cell.text() for cell in row.children if isinstance(cell, Element)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def page_of(response) -> Element:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    builder = _TreeBuilder()
    builder.feed(response.content.decode())
    builder.close()
    return builder.root


def messages_of(page: Element, level: str) -> list[str]:
    """The texts of `ul.messagelist li.<level>` ("success", "warning" or "error")."""
    return [
        item.text()
        for messagelist in page.find_all("ul", class_="messagelist")
        for item in messagelist.find_all("li", class_=level)
    ]


def preview_token(response) -> str:
    """The signed token a successful preview puts next to its "Record payment" button."""
    assert response.status_code == 200, response.status_code
    return page_of(response).find("input", type="hidden", name="preview").attrs["value"]


def preview_then_confirm(client, url: str, form: dict):
    """What a clerk does: preview `form`, then confirm it with the preview's token."""
    token = preview_token(client.post(url, {**form, "action": "preview"}))
    return client.post(url, {**form, "action": "confirm", "preview": token})
