"""Every string a mentor or coordinator reads (mails and the mentor page), per language. One catalogue,
so a unit test can check that both languages have every message with the same placeholders; code
asks `text(lang, key, **values)` and never writes a sentence of its own."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from werkplek_events.vocabulary import Language

DEFAULT = Language.NL  # the institutions are Flemish

CATALOGUE: dict[Language, dict[str, str]] = {
    Language.NL: {
        # mails to mentors
        "mail.request.subject": "Uren wachten op je bevestiging ({entries}, {hours})",
        "mail.reminder.subject": "Herinnering: uren wachten al meer dan {days} dagen op je bevestiging",
        "mail.fresh_link.subject": "Je nieuwe link voor werkplek",
        "mail.greeting": "Beste mentor",
        "mail.request.intro": "Je studenten registreerden uren op de werkplek: {entries}, samen {hours}. "
                              "Ze tellen pas mee voor hun opleiding wanneer jij ze bevestigt.",
        "mail.reminder.intro": "Sommige uren van je studenten wachten al meer dan {days} dagen op je bevestiging "
                               "({entries}, samen {hours}). Zonder bevestiging tellen ze niet mee.",
        "mail.fresh_link.intro": "Je vroeg een nieuwe link aan. Wachten op je bevestiging: {entries} ({hours}). "
                                 "Je kunt er ook leerresultaten beoordelen en de leerovereenkomst ondertekenen.",
        "mail.action": "Bevestig of weiger de uren, beoordeel leerresultaten en onderteken de leerovereenkomst:",
        "mail.button": "Open de pagina",
        "mail.validity": "De link werkt één keer en is geldig tot {expires}. Een nieuwe link vraag je aan op {ask}.",
        "mail.footer": "Je krijgt deze mail omdat de hogeschool van je student je als mentor op de werkplek "
                       "registreerde. Vragen? Neem contact op met de stagecoördinator.",
        # digest to coordinators
        "mail.digest.subject": "werkplek: in de gevarenzone op {day}: {students}",
        "mail.digest.intro": "Deze studenten van je instelling kwamen op {day} in de gevarenzone "
                             "(risico) of liepen achterstand op:",
        "mail.digest.columns": "student · opleiding · status · werkplekaandeel",
        "mail.digest.outro": "De volledige lijst: GET /v1/shares?status=at_risk,behind in de API van werkplek.",
        "n.entries.one": "{n} registratie",
        "n.entries.other": "{n} registraties",
        "n.students.one": "{n} student",
        "n.students.other": "{n} studenten",
        "n.confirmed.one": "{n} registratie bevestigd",
        "n.confirmed.other": "{n} registraties bevestigd",
        "n.rejected.one": "{n} registratie geweigerd",
        "n.rejected.other": "{n} registraties geweigerd",
        "n.assessed.one": "{n} leerresultaat beoordeeld",
        "n.assessed.other": "{n} leerresultaten beoordeeld",
        "n.signed.one": "{n} leerovereenkomst ondertekend",
        "n.signed.other": "{n} leerovereenkomsten ondertekend",
        "status.at_risk": "risico",
        "status.behind": "achterstand",
        "status.on_track": "op schema",
        # the mentor page
        "page.title": "Uren, beoordelingen en leerovereenkomst",
        "page.intro": "Wachten op je beslissing: {entries}, samen {hours}. Deze link werkt één keer, tot {expires}.",
        "page.nothing": "Er wachten geen uren op je bevestiging.",
        "page.language": "English",
        "page.student": "Student {student}",
        "page.placement": "Stage {placement}",
        "page.hours": "Uren",
        "page.entry": "{date} · {hours} · {activity}",
        "page.decided": "Al {decision}.",
        "page.confirm": "Bevestigen",
        "page.reject": "Weigeren",
        "page.later": "Later beslissen",
        "page.reason": "Reden van weigering",
        "page.reason.none": "— kies een reden —",
        "page.comment": "Toelichting (nodig bij weigeren)",
        "page.assess": "Leerresultaten beoordelen",
        "page.moment": "Moment van beoordeling",
        "page.moment.mid_term": "Tussentijds",
        "page.moment.final": "Eindbeoordeling",
        "page.level": "Niveau",
        "page.level.none": "— niet beoordelen —",
        "page.level.not_yet": "Nog niet",
        "page.level.developing": "In ontwikkeling",
        "page.level.achieved": "Bereikt",
        "page.level.exceeds": "Overtroffen",
        "page.latest": "laatste beoordeling: {level}",
        "page.at_institution": "verworven in de hogeschool",
        "page.outcome_comment": "Opmerking bij {outcome}",
        "page.sign": "Leerovereenkomst",
        "page.sign.box": "Ik onderteken de leerovereenkomst van deze stage namens de werkplek.",
        "page.signed": "De werkplek ondertekende de leerovereenkomst.",
        "page.submit": "Versturen",
        "page.errors": "Nog niet verstuurd. Kijk deze punten na:",
        "page.thanks.title": "Dank je wel",
        "page.thanks": "Opgeslagen: {done}. Je mag deze pagina sluiten.",
        "page.not_saved.title": "Niet opgeslagen",
        "page.not_saved": "Er werd niets opgeslagen; open de link opnieuw. ({detail})",
        "kind.knowledge": "kennis",
        "kind.skill": "vaardigheid",
        "kind.attitude": "attitude",
        "activity.work": "werk",
        "activity.training": "opleiding",
        "activity.project_work": "projectwerk",
        "activity.meeting": "overleg",
        "activity.reflection": "reflectie",
        "activity.other": "andere",
        "decision.confirmed": "bevestigd",
        "decision.rejected": "geweigerd",
        "reason.not_worked": "Niet gewerkt",
        "reason.wrong_hours": "Verkeerd aantal uren",
        "reason.wrong_date": "Verkeerde datum",
        "reason.not_at_workplace": "Niet op de werkplek",
        "reason.duplicate": "Dubbel geregistreerd",
        "reason.other": "Andere reden",
        "error.reason": "Kies een reden om deze registratie te weigeren.",
        "error.comment": "Licht de weigering kort toe (hoogstens 500 tekens).",
        "error.moment": "Kies of dit een tussentijdse of een eindbeoordeling is.",
        "error.outcome_comment": "Een opmerking is hoogstens 500 tekens.",
        "error.text_control": "Deze tekst bevat een onzichtbaar stuurteken dat niet bewaard kan worden; "
                              "typ hem opnieuw of verwijder het geplakte stuk.",
        "error.nothing": "Kies voor minstens één registratie bevestigen of weigeren, beoordeel een leerresultaat "
                         "of onderteken de leerovereenkomst.",
        "refused.used.title": "Deze link werd al gebruikt",
        "refused.used": "Wat je met deze link verstuurde, is al opgeslagen. Uren die nog wachten, komen in een "
                        "nieuwe mail.",
        "refused.expired.title": "Deze link is verlopen",
        "refused.expired": "Een link werkt maar een beperkte tijd. Vraag hieronder een nieuwe aan.",
        "refused.tampered.title": "Deze link is niet geldig",
        "refused.tampered": "De link is onvolledig of werd gewijzigd. Open hem opnieuw vanuit de mail, of vraag "
                            "hieronder een nieuwe aan.",
        # the fresh-link (magic link) form
        "ask.title": "Een nieuwe link aanvragen",
        "ask.intro": "Vul het e-mailadres in waarop je als mentor mails van werkplek krijgt.",
        "ask.email": "E-mailadres",
        "ask.submit": "Stuur me een nieuwe link",
        "ask.sent.title": "Kijk in je mailbox",
        "ask.sent": "Als dit adres bij een mentor hoort, is er een mail met een nieuwe link onderweg. "
                    "Niets ontvangen binnen een kwartier? Kijk in je spam of neem contact op met de "
                    "stagecoördinator.",
        "ask.invalid": "Vul een geldig e-mailadres in, bijvoorbeeld an.peeters@voorbeeld.be.",
    },
    Language.EN: {
        "mail.request.subject": "Hours await your confirmation ({entries}, {hours})",
        "mail.reminder.subject": "Reminder: hours have awaited your confirmation for more than {days} days",
        "mail.fresh_link.subject": "Your new werkplek link",
        "mail.greeting": "Dear mentor",
        "mail.request.intro": "Your students logged hours at the workplace: {entries}, {hours} in all. "
                              "They count towards their programme only once you confirm them.",
        "mail.reminder.intro": "Some of your students' hours have awaited your confirmation for more than {days} "
                               "days ({entries}, {hours} in all). Unconfirmed hours do not count.",
        "mail.fresh_link.intro": "You asked for a new link. Awaiting your confirmation: {entries} ({hours}). "
                                 "You can also assess learning outcomes and sign the learning agreement there.",
        "mail.action": "Confirm or reject the hours, assess learning outcomes and sign the learning agreement:",
        "mail.button": "Open the page",
        "mail.validity": "The link works once and is valid until {expires}. Ask for a new link at {ask}.",
        "mail.footer": "You receive this mail because your student's university college registered you as their "
                       "workplace mentor. Questions? Contact the placement coordinator.",
        "mail.digest.subject": "werkplek: at risk or behind on {day}: {students}",
        "mail.digest.intro": "These students of your institution became at risk or fell behind on {day}:",
        "mail.digest.columns": "student · programme · status · workplace share",
        "mail.digest.outro": "The full list: GET /v1/shares?status=at_risk,behind in the werkplek API.",
        "n.entries.one": "{n} entry",
        "n.entries.other": "{n} entries",
        "n.students.one": "{n} student",
        "n.students.other": "{n} students",
        "n.confirmed.one": "{n} entry confirmed",
        "n.confirmed.other": "{n} entries confirmed",
        "n.rejected.one": "{n} entry rejected",
        "n.rejected.other": "{n} entries rejected",
        "n.assessed.one": "{n} learning outcome assessed",
        "n.assessed.other": "{n} learning outcomes assessed",
        "n.signed.one": "{n} learning agreement signed",
        "n.signed.other": "{n} learning agreements signed",
        "status.at_risk": "at risk",
        "status.behind": "behind",
        "status.on_track": "on track",
        "page.title": "Hours, assessments and learning agreement",
        "page.intro": "Awaiting your decision: {entries}, {hours} in all. This link works once, until {expires}.",
        "page.nothing": "No hours await your confirmation.",
        "page.language": "Nederlands",
        "page.student": "Student {student}",
        "page.placement": "Placement {placement}",
        "page.hours": "Hours",
        "page.entry": "{date} · {hours} · {activity}",
        "page.decided": "Already {decision}.",
        "page.confirm": "Confirm",
        "page.reject": "Reject",
        "page.later": "Decide later",
        "page.reason": "Reason for rejecting",
        "page.reason.none": "— choose a reason —",
        "page.comment": "Explanation (needed to reject)",
        "page.assess": "Assess learning outcomes",
        "page.moment": "Moment of the assessment",
        "page.moment.mid_term": "Mid-term",
        "page.moment.final": "Final",
        "page.level": "Level",
        "page.level.none": "— do not assess —",
        "page.level.not_yet": "Not yet",
        "page.level.developing": "Developing",
        "page.level.achieved": "Achieved",
        "page.level.exceeds": "Exceeds",
        "page.latest": "latest assessment: {level}",
        "page.at_institution": "acquired at the institution",
        "page.outcome_comment": "Comment on {outcome}",
        "page.sign": "Learning agreement",
        "page.sign.box": "I sign this placement's learning agreement on behalf of the workplace.",
        "page.signed": "The workplace signed the learning agreement.",
        "page.submit": "Send",
        "page.errors": "Not sent yet. Please check:",
        "page.thanks.title": "Thank you",
        "page.thanks": "Saved: {done}. You can close this page.",
        "page.not_saved.title": "Not saved",
        "page.not_saved": "Nothing was saved; open the link again. ({detail})",
        "kind.knowledge": "knowledge",
        "kind.skill": "skill",
        "kind.attitude": "attitude",
        "activity.work": "work",
        "activity.training": "training",
        "activity.project_work": "project work",
        "activity.meeting": "meeting",
        "activity.reflection": "reflection",
        "activity.other": "other",
        "decision.confirmed": "confirmed",
        "decision.rejected": "rejected",
        "reason.not_worked": "Not worked",
        "reason.wrong_hours": "Wrong number of hours",
        "reason.wrong_date": "Wrong date",
        "reason.not_at_workplace": "Not at the workplace",
        "reason.duplicate": "Logged twice",
        "reason.other": "Other reason",
        "error.reason": "Choose a reason to reject this entry.",
        "error.comment": "Explain the rejection briefly (at most 500 characters).",
        "error.moment": "Choose whether this is a mid-term or a final assessment.",
        "error.outcome_comment": "A comment is at most 500 characters.",
        "error.text_control": "This text contains an invisible control character that cannot be stored; "
                              "type it again or remove the pasted part.",
        "error.nothing": "Confirm or reject at least one entry, assess a learning outcome or sign the learning "
                         "agreement.",
        "refused.used.title": "This link has already been used",
        "refused.used": "What you sent with this link was already saved. Hours still waiting arrive in a new mail.",
        "refused.expired.title": "This link has expired",
        "refused.expired": "A link works for a limited time only. Ask for a new one below.",
        "refused.tampered.title": "This link is not valid",
        "refused.tampered": "The link is incomplete or was changed. Open it again from the mail, or ask for a new "
                            "one below.",
        "ask.title": "Ask for a new link",
        "ask.intro": "Enter the e-mail address at which you receive werkplek's mails as a mentor.",
        "ask.email": "E-mail address",
        "ask.submit": "Send me a new link",
        "ask.sent.title": "Check your mailbox",
        "ask.sent": "If this address belongs to a mentor, a mail with a new link is on its way. Nothing within a "
                    "quarter of an hour? Check your spam folder or contact the placement coordinator.",
        "ask.invalid": "Enter a valid e-mail address, for example an.peeters@example.be.",
    },
}


def language(value: str | None) -> Language:
    """A supported language from a stored or requested value; the default otherwise."""
    try:
        return Language(value) if value else DEFAULT
    except ValueError:
        return DEFAULT


def from_accept_language(header: str | None) -> Language | None:
    """The first supported language of an Accept-Language header (quality order as written)."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in {lang.value for lang in Language}:
            return Language(tag)
    return None


def text(lang: Language, key: str, **values: object) -> str:
    return CATALOGUE[lang][key].format(**values)


def count(lang: Language, noun: str, n: int) -> str:
    """"1 entry", "3 entries": the catalogue's `n.<noun>.one` / `n.<noun>.other` (both languages
    have these two plural forms)."""
    return text(lang, f"n.{noun}.{'one' if n == 1 else 'other'}", n=n)


def hours(minutes: int) -> str:
    """7h30 — the same in both languages."""
    return f"{minutes // 60}h{minutes % 60:02d}"


def local_time(at: datetime, tz: ZoneInfo) -> str:
    """A moment as a mentor reads it: local date and time with the zone's abbreviation (CET / CEST),
    so a mentor abroad or reading on the hour the clocks change knows which time is meant."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
