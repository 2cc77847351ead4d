"""A small support-ticket table with drift, for the README's "Your own data" and its tests.

Rows before 2024-06-01 hold three classes (billing, login, shipping); newer rows bring new
words (a new app, new payment and carrier names) and a fourth class (refund). Each ticket is
a few class words in filler; a share of the class words is shared by the old and new eras,
so a model trained on the old rows already knows most of what the new rows say.
Run `python -m warmstart.data.example_table tickets.csv` to write one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = {
    "billing": ["invoice", "charged", "twice", "payment", "card", "bill", "fee", "vat"],
    "login": ["password", "login", "locked", "reset", "account", "twofactor", "email", "sso"],
    "shipping": ["parcel", "delivery", "courier", "tracking", "late", "address", "box", "lost"],
    "refund": ["refund", "money", "back", "return", "cancel", "reimburse", "credit", "owed"],
}
NEW_WORDS = {  # the newer era's words for the same classes
    "billing": ["paywave", "subscription", "upcharge"],
    "login": ["passkey", "mobileapp", "faceid"],
    "shipping": ["dronedrop", "lockerbox", "expressgo"],
    "refund": ["chargeback", "payout", "storecredit"],
}
FILLER = [
    "hi",
    "hello",
    "please",
    "help",
    "my",
    "the",
    "a",
    "i",
    "it",
    "is",
    "was",
    "not",
    "yet",
    "since",
    "today",
    "order",
    "and",
    "with",
    "thanks",
    "urgent",
    "again",
    "still",
    "why",
    "can",
    "you",
    "this",
    "on",
    "for",
    "of",
]
NON_ASCII = ["Grüße", "merci beaucoup", "¡gracias!", "日本"]


def example_table(n_old: int = 1200, n_new: int = 900, seed: int = 0) -> pd.DataFrame:
    """Rows `text,label,created`: `n_old` before 2024-06-01 (3 classes), `n_new` after (4)."""
    rng = np.random.default_rng(seed)
    rows = []
    for era, n in (("old", n_old), ("new", n_new)):
        classes = ["billing", "login", "shipping"] + (["refund"] if era == "new" else [])
        days = pd.date_range("2024-01-01", "2024-05-31") if era == "old" else (
            pd.date_range("2024-06-01", "2024-09-30"))  # fmt: skip
        for i in range(n):
            label = classes[i % len(classes)]
            own = WORDS[label] + (NEW_WORDS[label] if era == "new" else [])
            words = [*rng.choice(FILLER, 6), *rng.choice(own, 2 + int(rng.integers(0, 2)))]
            if rng.random() < 0.15:  # noise: a word of another class
                other = classes[(classes.index(label) + 1) % len(classes)]
                words.append(str(rng.choice(WORDS[other])))
            rng.shuffle(words)
            text = " ".join(words)
            if i % 17 == 0:
                text = f'"{text}", {NON_ASCII[i % len(NON_ASCII)]}\r\nthanks'
            rows.append((text, label, days[int(rng.integers(0, len(days)))].date().isoformat()))
    return pd.DataFrame(rows, columns=["text", "label", "created"])


def write_example(path: str | Path, **kwargs) -> Path:
    """Write `example_table(**kwargs)` as CSV (quoting, commas, CRLF and non-ASCII included)."""
    path = Path(path)
    example_table(**kwargs).to_csv(path, index=False)
    return path


if __name__ == "__main__":
    print(write_example(sys.argv[1] if len(sys.argv) > 1 else "tickets.csv"))
