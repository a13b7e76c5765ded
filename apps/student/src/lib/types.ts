// The shapes the placement-logging API sends and the phone keeps.
export type Activity = 'work' | 'training' | 'project_work' | 'meeting' | 'reflection' | 'other';
export const ACTIVITIES: Activity[] = ['work', 'training', 'project_work', 'meeting', 'reflection', 'other'];

/** What the phone sends for an entry (EntryIn). */
export interface EntryBody {
  entry_id: string;
  placement_id: string;
  work_date: string; // YYYY-MM-DD, the student's local date
  start_time?: string | null; // HH:MM
  end_time?: string | null;
  duration_minutes?: number | null;
  activity: Activity;
  outcome_ids: string[];
  description: string;
}

/** The mentor's reasons of a rejection: werkplek_events' RejectionReason, one sentence each in both
 *  catalogues (`rejection.reason.*`; tests/unit/test_app_catalogues.py keeps the list in step). */
export const REJECTION_REASONS = ['not_worked', 'wrong_hours', 'wrong_date', 'not_at_workplace', 'duplicate',
  'other'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** The server's entry (EntryOut). */
export interface ServerEntry extends EntryBody {
  revision: number;
  status: 'pending' | 'confirmed' | 'rejected' | 'withdrawn';
  /** On a rejected entry: the mentor's reason and comment; null (or absent in older replies) otherwise. */
  rejection?: { reason: string; comment: string } | null;
  logged_at: string;
  updated_at: string;
}

/** RFC 9457 problem document, as the API answers. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  reasons?: string[];
  reason?: string;
  errors?: { field: string; message: string }[];
}

/** An operation waiting to reach the server. */
export type Op = 'create' | 'patch' | 'withdraw';

/** queued: waiting to send; sending: in a batch not yet answered; synced: as on the server;
 *  refused: the server said no (problem); conflict: changed on the server meanwhile (412). */
export type LocalState = 'queued' | 'sending' | 'synced' | 'refused' | 'conflict';

export interface LocalEntry {
  entry_id: string;
  idempotency_key: string; // made with the entry, stored before anything is sent
  body: EntryBody; // what the student wants the entry to be
  op: Op | null;
  state: LocalState;
  server?: ServerEntry; // the last version the phone saw on the server
  etag?: string; // of that version, for If-Match
  problem?: Problem;
  theirs?: ServerEntry; // the server's version at a 412
  created_at: string;
}

/** A batch as sent: kept until answered, then resent byte for byte with the same key. */
export interface PendingBatch {
  key: string;
  entry_ids: string[];
  body: { entries: EntryBody[] };
  created_at: string;
}

export interface Placement {
  id: string;
  version: number;
  body: {
    student_id: string;
    workplace_id: string;
    start_date: string;
    end_date: string;
    ended_on?: string | null;
    planned_minutes?: number;
    learning_agreement?: { outcomes: { outcome_id: string; title: string; kind: string }[] };
  };
}

export interface Share {
  version: number;
  as_of: string;
  confirmed_minutes: number;
  pending_minutes: number;
  planned_minutes: number;
  rejected_minutes: number;
  study_load_minutes: number;
  target_to_date_minutes: number;
  real_share: string;
  projected_share: string;
  per_phase: { phase: number; confirmed_minutes: number; study_load_minutes: number; share: string }[];
  status: 'on_track' | 'at_risk' | 'behind';
  on_course_for_required_share?: boolean | null;
}

export interface Outcomes {
  version: number;
  outcomes: { outcome_id: string; kind: string; latest_level?: string | null; assessed_on?: string | null }[];
  coverage: Record<string, { agreed: number; assessed: number; achieved: number }>;
  achieved_share: string;
  never_assessed: string[];
}

export interface Refusal { entry_id: string; entry: EntryBody; problem: Problem; refused_at: string }

export interface Home {
  share: Share | null;
  outcomes: Outcomes | null;
  placements: Placement[];
  refusals: Refusal[];
  server_time: string;
}
