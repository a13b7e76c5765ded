"""The student app words every rejection reason of the event contract: its list of reasons is the
contract's RejectionReason, and both catalogues (nl, en) have a sentence for each. (TypeScript checks
that each catalogue has every key of the list; this keeps the list in step with the contract.)"""

from __future__ import annotations

import re

from werkplek_common.settings import REPO_ROOT
from werkplek_events.vocabulary import RejectionReason

SRC = REPO_ROOT / "apps/student/src"


def test_the_app_lists_every_rejection_reason_of_the_contract():
    types = (SRC / "lib/types.ts").read_text()
    listed = re.search(r"REJECTION_REASONS = \[(.*?)\] as const", types, re.S)
    assert listed, "REJECTION_REASONS not found in apps/student/src/lib/types.ts"
    assert re.findall(r"'(\w+)'", listed.group(1)) == [r.value for r in RejectionReason]


def test_both_catalogues_word_every_rejection_reason():
    for lang in ("nl", "en"):
        catalogue = (SRC / f"i18n/{lang}.ts").read_text()
        worded = dict(re.findall(r"'rejection\.reason\.(\w+)': '([^']+)'", catalogue))
        assert set(worded) == {r.value for r in RejectionReason}, lang
        assert all(len(sentence) > 10 for sentence in worded.values()), lang
