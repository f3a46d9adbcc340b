"""The dashboard's ageing chart: bar geometry computed here, drawn as inline SVG by the template.

One row of bars per currency, each scaled to its own largest bucket: amounts in different
currencies are never added nor drawn on one scale. No JavaScript and nothing from a CDN.
"""

from dataclasses import dataclass
from decimal import Decimal

from payments.receivables import AGEING_BUCKETS, CurrencyReceivables

BUCKET_LABELS = {
    "current": "Current",
    "1-30": "1-30 days",
    "31-60": "31-60 days",
    "61-90": "61-90 days",
    "90+": "90+ days",
}

WIDTH = 760
LEFT = 64  # room for the currency code
BAR_AREA = 100  # the tallest bar
SLOT = (WIDTH - LEFT) // len(AGEING_BUCKETS)
BAR_WIDTH = 84
PANEL_HEIGHT = 160  # value labels, bars, bucket labels and a gap
PIXEL = Decimal("0.1")


@dataclass(frozen=True)
class Bar:
    bucket: str
    label: str
    amount: Decimal
    x: int
    y: Decimal
    width: int
    height: Decimal

    @property
    def css_class(self) -> str:
        return "bucket-" + self.bucket.replace("+", "-plus")

    @property
    def middle(self) -> int:
        return self.x + self.width // 2

    @property
    def value_y(self) -> Decimal:
        return self.y - 6


@dataclass(frozen=True)
class Panel:
    currency: str
    top: int
    baseline: int
    bars: list[Bar]

    @property
    def label_y(self) -> int:
        return self.baseline - BAR_AREA // 2

    @property
    def bucket_label_y(self) -> int:
        return self.baseline + 18


@dataclass(frozen=True)
class AgeingChart:
    panels: list[Panel]
    width: int = WIDTH
    left: int = LEFT

    @property
    def height(self) -> int:
        return PANEL_HEIGHT * len(self.panels)


def ageing_chart(receivables: list[CurrencyReceivables]) -> AgeingChart:
    panels = []
    for row, figures in enumerate(receivables):
        top = row * PANEL_HEIGHT
        baseline = top + 24 + BAR_AREA
        largest = max(figures.buckets.values())
        bars = []
        for slot, bucket in enumerate(AGEING_BUCKETS):
            amount = figures.buckets[bucket]
            height = (amount / largest * BAR_AREA).quantize(PIXEL) if largest > 0 else Decimal(0)
            bars.append(
                Bar(
                    bucket=bucket,
                    label=BUCKET_LABELS[bucket],
                    amount=amount,
                    x=LEFT + slot * SLOT + (SLOT - BAR_WIDTH) // 2,
                    y=baseline - height,
                    width=BAR_WIDTH,
                    height=height,
                )
            )
        panels.append(Panel(currency=figures.currency, top=top, baseline=baseline, bars=bars))
    return AgeingChart(panels=panels)
