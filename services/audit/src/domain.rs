//! The audit log as domain types: the facts of one lookup (R21.1), the
//! hash-chained entry that records them (R28.3), and the pure verification
//! of a chain. Nothing here does I/O, so the same verifier checks a page
//! read from the database and an entry list built in a test.
//!
//! # The entry hash
//!
//! `entry_hash` is the lowercase hex SHA-256 of the canonical encoding of an
//! entry: twelve fields, each written as its length in bytes (an unsigned
//! 64-bit big-endian integer) followed by its bytes, so no two different
//! entries encode alike:
//!
//! 1. the tag `shebao.audit.v1.entry`;
//! 2. the sequence, as an unsigned 64-bit big-endian integer;
//! 3. `recorded_at`, RFC 3339 in UTC with microseconds and `Z`
//!    (`2025-03-01T08:00:00.000000Z`), exactly as stored;
//! 4. to 9. `actor`, `action`, `subject`, `purpose_code`, `legal_basis`,
//!    `case_reference`, as UTF-8;
//! 10. the decision by its proto name, `DECISION_ALLOWED` or `DECISION_DENIED`;
//! 11. `detail`, as UTF-8;
//! 12. `previous_hash`, 64 lowercase hex digits; 64 zeros for the first entry.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::error::{AuditError, Result};

/// The previous hash of the first entry, and the head of an empty log.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest accepted text field, in characters.
pub const MAX_FIELD_CHARS: usize = 512;

/// The tag that starts every canonical encoding, so an entry hash cannot
/// be confused with a hash of anything else.
const ENTRY_TAG: &str = "shebao.audit.v1.entry";

/// What the gateway decided about a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The lookup was answered.
    Allowed,
    /// The lookup was refused.
    Denied,
}

impl Decision {
    /// The decision by its proto name, as stored and hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "DECISION_ALLOWED",
            Self::Denied => "DECISION_DENIED",
        }
    }

    /// Reads a decision by its proto name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "DECISION_ALLOWED" => Some(Self::Allowed),
            "DECISION_DENIED" => Some(Self::Denied),
            _ => None,
        }
    }
}

/// The facts of one lookup, as the gateway reports them (R21.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The external principal who asked, e.g. `org/court-demo`.
    pub actor: String,
    /// The gateway method asked for.
    pub action: String,
    /// The person looked up, as given; may be empty for a refusal.
    pub subject: String,
    /// Purpose code stated by the caller.
    pub purpose_code: String,
    /// Legal basis stated by the caller.
    pub legal_basis: String,
    /// Case reference stated by the caller.
    pub case_reference: String,
    /// What the gateway decided.
    pub decision: Decision,
    /// Why, for a refusal; the record items released, for an answer.
    pub detail: String,
}

impl Lookup {
    /// Returns the lookup when `actor` and `action` are not blank and no
    /// field is longer than [`MAX_FIELD_CHARS`]; otherwise names the field.
    pub fn checked(self) -> Result<Self> {
        for (field, value) in [("actor", &self.actor), ("action", &self.action)] {
            if value.trim().is_empty() {
                return Err(AuditError::Invalid {
                    field,
                    reason: "must not be empty".into(),
                });
            }
        }
        for (field, value) in self.text_fields() {
            check_length(field, value)?;
        }
        Ok(self)
    }

    fn text_fields(&self) -> [(&'static str, &str); 7] {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject", &self.subject),
            ("purpose_code", &self.purpose_code),
            ("legal_basis", &self.legal_basis),
            ("case_reference", &self.case_reference),
            ("detail", &self.detail),
        ]
    }
}

/// Refuses a value longer than [`MAX_FIELD_CHARS`] characters, naming `field`.
pub fn check_length(field: &'static str, value: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars > MAX_FIELD_CHARS {
        return Err(AuditError::Invalid {
            field,
            reason: format!("must be at most {MAX_FIELD_CHARS} characters, got {chars}"),
        });
    }
    Ok(())
}

/// Checks the subject of a listing: not blank, not overlong.
pub fn parse_subject(field: &'static str, raw: &str) -> Result<String> {
    if raw.trim().is_empty() {
        return Err(AuditError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    check_length(field, raw)?;
    Ok(raw.to_string())
}

/// Writes an instant the one way entries store and hash it.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One entry of the log: a lookup, where it sits and how it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, from 1, without gaps.
    pub sequence: u64,
    /// When the entry was recorded, as stored and hashed (see [`format_instant`]).
    pub recorded_at: String,
    /// What was looked up, by whom, and what was decided.
    pub lookup: Lookup,
    /// `entry_hash` of the entry before; [`GENESIS_HASH`] for the first.
    pub previous_hash: String,
    /// Hex SHA-256 of this entry's canonical encoding.
    pub entry_hash: String,
}

impl Entry {
    /// Builds entry `sequence`, recorded `at`, chained to `previous_hash`,
    /// and computes its hash.
    pub fn seal(sequence: u64, at: DateTime<Utc>, lookup: Lookup, previous_hash: String) -> Self {
        let mut entry = Self {
            sequence,
            recorded_at: format_instant(at),
            lookup,
            previous_hash,
            entry_hash: String::new(),
        };
        entry.entry_hash = entry.computed_hash();
        entry
    }

    /// Recomputes the hash from the entry's fields, ignoring `entry_hash`.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            // Length-prefixed, so moving bytes between fields changes the encoding.
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        let l = &self.lookup;
        field(ENTRY_TAG.as_bytes());
        field(&self.sequence.to_be_bytes());
        field(self.recorded_at.as_bytes());
        field(l.actor.as_bytes());
        field(l.action.as_bytes());
        field(l.subject.as_bytes());
        field(l.purpose_code.as_bytes());
        field(l.legal_basis.as_bytes());
        field(l.case_reference.as_bytes());
        field(l.decision.as_str().as_bytes());
        field(l.detail.as_bytes());
        field(self.previous_hash.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// Where a chain first fails to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// Sequence of the first entry that does not verify.
    pub sequence: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// The outcome of verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries looked at.
    pub entries_checked: u64,
    /// The first entry that does not verify; `None` when the chain is intact.
    pub first_break: Option<Break>,
    /// `entry_hash` of the last entry; [`GENESIS_HASH`] for an empty log.
    pub head_hash: String,
}

impl Verification {
    /// True when every entry's hash, link and sequence check.
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Verifies a chain one entry at a time, in sequence order, so a long log
/// can be checked page by page without holding it in memory (R28.3).
///
/// Each entry must carry the next sequence number (the first is 1), name
/// the stored hash of the entry before it, and hash to its own
/// `entry_hash`. After a break the walk goes on from the entry as stored,
/// so the count and the head cover the whole log; only the first break is
/// reported.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_sequence: u64,
    previous_hash: String,
    checked: u64,
    first_break: Option<Break>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier expecting the first entry of a log.
    pub fn new() -> Self {
        Self {
            next_sequence: 1,
            previous_hash: GENESIS_HASH.to_string(),
            checked: 0,
            first_break: None,
        }
    }

    /// Checks the next entry of the chain.
    pub fn check(&mut self, entry: &Entry) {
        self.checked += 1;
        let problem = if entry.sequence != self.next_sequence {
            Some(format!(
                "expected sequence {}, found {}: entries are missing or out of order",
                self.next_sequence, entry.sequence
            ))
        } else if entry.previous_hash != self.previous_hash {
            Some("previous_hash does not match the entry before".to_string())
        } else if entry.computed_hash() != entry.entry_hash {
            Some("entry_hash does not match the entry's contents".to_string())
        } else {
            None
        };
        if let Some(reason) = problem
            && self.first_break.is_none()
        {
            self.first_break = Some(Break {
                sequence: entry.sequence,
                reason,
            });
        }
        self.next_sequence = entry.sequence.saturating_add(1);
        self.previous_hash.clone_from(&entry.entry_hash);
    }

    /// The outcome after the last entry.
    pub fn finish(self) -> Verification {
        Verification {
            entries_checked: self.checked,
            first_break: self.first_break,
            head_hash: self.previous_hash,
        }
    }
}

/// Verifies `entries`, given in sequence order from the first.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Verification {
    let mut verifier = ChainVerifier::new();
    for entry in entries {
        verifier.check(entry);
    }
    verifier.finish()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn lookup(subject: &str) -> Lookup {
        Lookup {
            actor: "org/court-demo".into(),
            action: "/shebao.gateway.v1.GatewayService/LookupPerson".into(),
            subject: subject.into(),
            purpose_code: "litigation".into(),
            legal_basis: "civil procedure law art. 67".into(),
            case_reference: "(2025) 京0105民初123号".into(),
            decision: Decision::Allowed,
            detail: "contribution_history".into(),
        }
    }

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, second)
            .single()
            .expect("valid instant")
    }

    fn chain(length: u64) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for sequence in 1..=length {
            let previous = entries
                .last()
                .map_or_else(|| GENESIS_HASH.to_string(), |e| e.entry_hash.clone());
            entries.push(Entry::seal(
                sequence,
                at(0),
                lookup("11010519491231002X"),
                previous,
            ));
        }
        entries
    }

    #[test]
    fn the_entry_hash_follows_the_documented_encoding() {
        // R28.3: anyone can recompute a hash from the published encoding;
        // the expected value was computed independently of this code.
        let entry = Entry::seal(
            1,
            at(0),
            lookup("11010519491231002X"),
            GENESIS_HASH.to_string(),
        );
        assert_eq!(entry.recorded_at, "2025-03-01T08:00:00.000000Z");
        assert_eq!(entry.entry_hash, KNOWN_HASH);
    }

    const KNOWN_HASH: &str = "67e2f5fb602073c3aa797581548833c0d51bbc42ddd3a7e5912e72be8093ee82";

    #[test]
    fn moving_text_between_adjacent_fields_changes_the_hash() {
        let mut a = lookup("x");
        a.purpose_code = "ab".into();
        a.legal_basis = "c".into();
        let mut b = a.clone();
        b.purpose_code = "a".into();
        b.legal_basis = "bc".into();
        let first = Entry::seal(1, at(0), a, GENESIS_HASH.to_string());
        let second = Entry::seal(1, at(0), b, GENESIS_HASH.to_string());
        assert_ne!(first.entry_hash, second.entry_hash);
    }

    #[test]
    fn a_linked_chain_verifies_and_reports_its_head() {
        // R28.3
        let entries = chain(5);
        let outcome = verify(&entries);
        assert!(outcome.intact(), "{outcome:?}");
        assert_eq!(outcome.entries_checked, 5);
        assert_eq!(outcome.head_hash, entries[4].entry_hash);
        assert_eq!(entries[0].previous_hash, GENESIS_HASH);
        assert_eq!(entries[3].previous_hash, entries[2].entry_hash);
    }

    #[test]
    fn an_empty_log_is_intact_with_the_genesis_head() {
        let outcome = verify(&[]);
        assert!(outcome.intact());
        assert_eq!(outcome.entries_checked, 0);
        assert_eq!(outcome.head_hash, GENESIS_HASH);
    }

    #[test]
    fn an_altered_field_is_detected_at_its_entry() {
        // R28.3: changing any recorded fact breaks the entry's own hash
        let pristine = chain(4);
        let alterations: [fn(&mut Entry); 6] = [
            |e| e.lookup.actor = "org/someone-else".into(),
            |e| e.lookup.subject = "110105194912310021".into(),
            |e| e.lookup.decision = Decision::Denied,
            |e| e.lookup.detail.push('!'),
            |e| e.recorded_at = "2025-03-01T08:00:01.000000Z".into(),
            |e| e.previous_hash = GENESIS_HASH.into(),
        ];
        for alter in alterations {
            let mut entries = pristine.clone();
            alter(&mut entries[2]);
            let outcome = verify(&entries);
            let broken = outcome.first_break.expect("the alteration is detected");
            assert_eq!(broken.sequence, 3, "{}", broken.reason);
            assert_eq!(outcome.entries_checked, 4);
        }
    }

    #[test]
    fn an_entry_rehashed_after_alteration_breaks_the_next_link() {
        // R28.3: recomputing the altered entry's hash does not hide it
        let mut entries = chain(4);
        entries[1].lookup.purpose_code = "curiosity".into();
        entries[1].entry_hash = entries[1].computed_hash();
        let broken = verify(&entries).first_break.expect("detected");
        assert_eq!(broken.sequence, 3);
        assert!(broken.reason.contains("previous_hash"), "{}", broken.reason);
    }

    #[test]
    fn a_removed_entry_is_reported_as_a_gap() {
        // R28.4: nothing may be removed
        let mut entries = chain(5);
        entries.remove(2);
        let outcome = verify(&entries);
        let broken = outcome.first_break.expect("detected");
        assert_eq!(broken.sequence, 4);
        assert!(
            broken.reason.contains("expected sequence 3"),
            "{}",
            broken.reason
        );
        assert_eq!(outcome.entries_checked, 4);
        let mut truncated_front = chain(3);
        truncated_front.remove(0);
        assert_eq!(
            verify(&truncated_front).first_break.map(|b| b.sequence),
            Some(2)
        );
    }

    #[test]
    fn blank_actor_or_action_and_overlong_fields_are_rejected_naming_the_field() {
        let field_of = |lookup: Lookup| match lookup.checked() {
            Err(AuditError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        };
        let mut l = lookup("x");
        l.actor = " ".into();
        assert_eq!(field_of(l), "actor");
        let mut l = lookup("x");
        l.action = String::new();
        assert_eq!(field_of(l), "action");
        let mut l = lookup("x");
        l.case_reference = "案".repeat(MAX_FIELD_CHARS + 1);
        assert_eq!(field_of(l), "case_reference");
        let mut l = lookup("x");
        l.detail = "d".repeat(MAX_FIELD_CHARS);
        assert!(l.checked().is_ok());
        assert!(
            lookup("").checked().is_ok(),
            "a refusal may have no subject"
        );
    }

    #[test]
    fn a_blank_subject_cannot_be_listed() {
        assert!(parse_subject("subject", "  ").is_err());
        assert!(parse_subject("subject", &"1".repeat(MAX_FIELD_CHARS + 1)).is_err());
        assert_eq!(parse_subject("subject", "x").ok().as_deref(), Some("x"));
    }
}
