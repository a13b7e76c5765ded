"""The functional core of funding reports: pure rules over frozen records, no I/O.

`state` folds input events into a cohort; `views` turns it into frozen `StudentView`s per report;
`sections` computes the figures (with the students behind each, for lineage); `privacy` suppresses
small and derivable counts before anything is published."""
