"""The closed vocabularies of the domain (docs/domain.md). Values are stable wire strings."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    GRADUAAT = "graduaat"  # EQF 5, 90-120 ECTS: one third work-based learning by decree
    PROFESSIONAL_BACHELOR = "professional_bachelor"
    BACHELOR_AFTER_BACHELOR = "bachelor_after_bachelor"
    POSTGRADUATE = "postgraduate"
    MICROCREDENTIAL = "microcredential"


class EnrolmentStatus(StrEnum):
    REGULAR = "regular"
    WORKING_STUDENT = "working_student"
    SIDE_ENTRANT = "side_entrant"
    OTHER = "other"


class AgeBand(StrEnum):
    UNDER_21 = "under_21"
    FROM_21_TO_25 = "21_to_25"
    OVER_25 = "over_25"  # the "25+" target group


class EnrolmentEndReason(StrEnum):
    GRADUATED = "graduated"
    DROPPED_OUT = "dropped_out"
    TRANSFERRED = "transferred"


class LearningEnvironment(StrEnum):
    SIMULATED = "simulated"
    REALISTIC = "realistic"
    AUTHENTIC = "authentic"


class PlacementForm(StrEnum):
    INTERNSHIP = "internship"
    PROJECT = "project"
    DUAL = "dual"
    SIMULATED = "simulated"
    JOB_SHADOWING = "job_shadowing"
    OTHER = "other"


class PlacementEndReason(StrEnum):
    COMPLETED = "completed"
    TERMINATED_EARLY = "terminated_early"
    CANCELLED = "cancelled"


class OutcomeKind(StrEnum):
    KNOWLEDGE = "knowledge"
    SKILL = "skill"
    ATTITUDE = "attitude"


class AcquiredAt(StrEnum):
    WORKPLACE = "workplace"
    INSTITUTION = "institution"


class ActivityKind(StrEnum):
    WORK = "work"
    TRAINING = "training"
    PROJECT_WORK = "project_work"
    MEETING = "meeting"
    REFLECTION = "reflection"
    OTHER = "other"


class RejectionReason(StrEnum):
    NOT_WORKED = "not_worked"
    WRONG_HOURS = "wrong_hours"
    WRONG_DATE = "wrong_date"
    NOT_AT_WORKPLACE = "not_at_workplace"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class EntryStatus(StrEnum):
    """Where a time entry stands on its current revision (`werkplek_events.rules.entry_status`);
    `withdrawn` only where a student's own entries are listed (placement logging)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class AssessmentLevel(StrEnum):
    """The documented four-step scale; `achieved` and `exceeds` count as reached."""

    NOT_YET = "not_yet"
    DEVELOPING = "developing"
    ACHIEVED = "achieved"
    EXCEEDS = "exceeds"


class AssessmentMoment(StrEnum):
    MID_TERM = "mid_term"
    FINAL = "final"


class SigningParty(StrEnum):
    INSTITUTION = "institution"
    WORKPLACE = "workplace"


class ShareStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"


class ConfirmationChannel(StrEnum):
    WEBHOOK = "webhook"
    LINK = "link"


class RequestPurpose(StrEnum):
    """Why a confirmation request was made: the regular batch, a reminder about hours pending for
    days, or a fresh link the mentor asked for with their e-mail address."""

    BATCH = "batch"
    REMINDER = "reminder"
    FRESH_LINK = "fresh_link"


class Language(StrEnum):
    """The languages people are written to in (mails, the mentor page)."""

    NL = "nl"
    EN = "en"


class ReportScope(StrEnum):
    PROGRAMME = "programme"
    INSTITUTION = "institution"
    PILOT = "pilot"  # one pilot (proeftuin) in one academic year


class NaceSection(StrEnum):
    """The sector of a workplace: the section (top level) of the EU's NACE Rev. 2 classification of
    economic activities, the letter every NACE-BEL code starts with. A closed list, so a report can show
    every sector, zeros included, without a row revealing that some placement exists."""

    A = "A"  # agriculture, forestry and fishing
    B = "B"  # mining and quarrying
    C = "C"  # manufacturing
    D = "D"  # electricity, gas, steam and air conditioning supply
    E = "E"  # water supply; sewerage, waste management and remediation
    F = "F"  # construction
    G = "G"  # wholesale and retail trade; repair of motor vehicles
    H = "H"  # transportation and storage
    I = "I"  # accommodation and food service activities  # noqa: E741
    J = "J"  # information and communication
    K = "K"  # financial and insurance activities
    L = "L"  # real estate activities
    M = "M"  # professional, scientific and technical activities
    N = "N"  # administrative and support service activities
    O = "O"  # public administration and defence; compulsory social security  # noqa: E741
    P = "P"  # education
    Q = "Q"  # human health and social work activities
    R = "R"  # arts, entertainment and recreation
    S = "S"  # other service activities
    T = "T"  # activities of households as employers
    U = "U"  # activities of extraterritorial organisations and bodies


class PartnerKind(StrEnum):
    """Who a pilot's partner is (co-creation with the world of work)."""

    WORKPLACE = "workplace"  # an organisation hosting students
    SECTOR_ORGANISATION = "sector_organisation"  # a sector fund, federation or training body
    INSTITUTION = "institution"  # another institution of higher or secondary education
    PUBLIC_BODY = "public_body"
    OTHER = "other"
