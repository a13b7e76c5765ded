-- Contact data, which is personal data: each mentor's e-mail address and language, and the address
-- each institution's coordinators are notified at. Kept out of the registry bodies, in this one
-- table (and one compacted topic each), so erasing a person's contact is deleting one row.
-- (Numbered 0060, not 0003: several branches add migrations at once; numbers need not be dense.)
CREATE TABLE pl_contact (
  kind            text        NOT NULL CHECK (kind IN ('mentor', 'institution')),
  id              text        NOT NULL,        -- mentor id or institution id
  institution_id  text        NOT NULL,        -- tenant boundary
  email           text        NOT NULL,        -- personal data
  language        text        NOT NULL CHECK (language IN ('nl', 'en')),
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, id)
);
CREATE INDEX pl_contact_institution ON pl_contact (institution_id, kind, id);
