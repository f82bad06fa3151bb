//! Facility update links and the corrections proposed through them.
//!
//! A link lets a facility's staff report bed status, confirm their entry unchanged, or propose
//! a correction, without an account. Only the SHA-256 of a link's token is stored. A one-time
//! link is used up by the transaction that uses it; a standing link (bed status and
//! confirmation only) lasts until revoked. Proposals wait for a coordinator's decision; the
//! decision and its reason are kept with the proposal, and an approval is an edit like any
//! other (change log, version).

use diesel::prelude::*;

use super::edit::{Edit, EditError, edit_in};
use super::schema::{proposals, update_links};
use super::{Store, StoreError};
use crate::domain::Facility;

/// A stored update link (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = update_links)]
pub struct UpdateLink {
    pub id: i64,
    #[serde(skip)]
    pub token_hash: String,
    pub facility_id: String,
    /// `one_time` or `standing`.
    pub kind: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub used_at: Option<String>,
    pub revoked: bool,
}

impl UpdateLink {
    pub fn standing(&self) -> bool {
        self.kind == "standing"
    }
}

/// A correction proposed through a link.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = proposals)]
pub struct Proposal {
    pub id: i64,
    pub facility_id: String,
    pub link_id: Option<i64>,
    /// The merge patch of the facility's facts, as JSON text.
    pub changes: String,
    pub note: Option<String>,
    pub base_version: i64,
    pub created_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
    /// A survey answer set: the survey code (`changes` holds the answers).
    pub survey: Option<String>,
    pub survey_version: Option<i32>,
    pub respondent: Option<String>,
    /// `update_link`, `coordinator` or `sample`.
    pub via: String,
}

/// An edit of a stored facility, as [`Store::edit_facility`] takes it.
pub type FacilityChange<'a> = Box<dyn FnOnce(&mut Facility) -> Result<(), String> + 'a>;

/// A new proposal, written with the link's use.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub changes: String,
    pub note: Option<String>,
    /// For a survey answer set: the survey code and version.
    pub survey: Option<(String, i32)>,
    pub respondent: Option<String>,
}

impl NewProposal {
    /// A correction (a merge patch of the facility's facts).
    pub fn correction(changes: String, note: Option<String>) -> NewProposal {
        NewProposal {
            changes,
            note,
            survey: None,
            respondent: None,
        }
    }
}

/// Why a decision on a proposal is refused.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("no proposal with this id")]
    NotFound,
    #[error("the proposal was already {0}")]
    Decided(String),
    #[error(transparent)]
    Edit(#[from] EditError),
}

impl From<StoreError> for DecisionError {
    fn from(e: StoreError) -> Self {
        DecisionError::Edit(EditError::Store(e))
    }
}

impl From<diesel::result::Error> for DecisionError {
    fn from(e: diesel::result::Error) -> Self {
        DecisionError::Edit(EditError::from(e))
    }
}

impl Store {
    /// Store a new link for `facility_id`; returns it.
    pub fn create_link(
        &self,
        facility_id: &str,
        token_hash: &str,
        standing: bool,
        created_by: &str,
        created_at: &str,
        expires_at: Option<&str>,
    ) -> Result<UpdateLink, StoreError> {
        self.with_conn(|c| {
            diesel::insert_into(update_links::table)
                .values((
                    update_links::token_hash.eq(token_hash),
                    update_links::facility_id.eq(facility_id),
                    update_links::kind.eq(if standing { "standing" } else { "one_time" }),
                    update_links::created_by.eq(created_by),
                    update_links::created_at.eq(created_at),
                    update_links::expires_at.eq(expires_at),
                ))
                .execute(c)?;
            Ok(update_links::table
                .filter(update_links::token_hash.eq(token_hash))
                .select(UpdateLink::as_select())
                .first(c)?)
        })
    }

    /// The link whose token hashes to `token_hash`.
    pub fn link_by_hash(&self, token_hash: &str) -> Result<Option<UpdateLink>, StoreError> {
        self.with_conn(|c| {
            Ok(update_links::table
                .filter(update_links::token_hash.eq(token_hash))
                .select(UpdateLink::as_select())
                .first(c)
                .optional()?)
        })
    }

    /// Every link of a facility, newest first.
    pub fn links_of(&self, facility_id: &str) -> Result<Vec<UpdateLink>, StoreError> {
        self.with_conn(|c| {
            Ok(update_links::table
                .filter(update_links::facility_id.eq(facility_id))
                .order(update_links::id.desc())
                .select(UpdateLink::as_select())
                .load(c)?)
        })
    }

    /// Revoke link `id` of `facility_id`; false when there is none.
    pub fn revoke_link(&self, facility_id: &str, id: i64) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            Ok(diesel::update(
                update_links::table
                    .filter(update_links::id.eq(id))
                    .filter(update_links::facility_id.eq(facility_id)),
            )
            .set(update_links::revoked.eq(true))
            .execute(c)?
                > 0)
        })
    }

    /// Use `link` in one transaction: claim it (a one-time link only once: a second use, even
    /// a concurrent one, is refused as used), edit its facility with `change` at
    /// `expected_version`, and file `proposals` (a correction, a survey answer set). Nothing is
    /// written when any step fails.
    pub fn use_link(
        &self,
        link: &UpdateLink,
        expected_version: i64,
        edit: &Edit<'_>,
        change: impl FnOnce(&mut Facility) -> Result<(), String>,
        proposals: Vec<NewProposal>,
    ) -> Result<(Facility, Vec<i64>), EditError> {
        self.with_conn(|c| {
            Ok(c.transaction(|c| {
                if !link.standing() {
                    let claimed = diesel::update(
                        update_links::table
                            .filter(update_links::id.eq(link.id))
                            .filter(update_links::used_at.is_null())
                            .filter(update_links::revoked.eq(false)),
                    )
                    .set(update_links::used_at.eq(edit.at))
                    .execute(c)?;
                    if claimed == 0 {
                        return Err(EditError::Refused(
                            "This one-time link was used meanwhile.".into(),
                        ));
                    }
                }
                let f = edit_in(c, &link.facility_id, expected_version, edit, change)?;
                let mut ids = Vec::new();
                for p in proposals {
                    ids.push(insert_proposal(
                        c,
                        &link.facility_id,
                        Some(link.id),
                        &p,
                        f.version,
                        edit,
                        "update_link",
                        None,
                    )?);
                }
                Ok((f, ids))
            }))
        })?
    }

    /// Edit a facility with an answer set entered by `edit.actor` (a coordinator, or the sample
    /// loader) and keep the answer set, decided at once, in one transaction.
    pub fn record_answers(
        &self,
        facility_id: &str,
        expected_version: i64,
        edit: &Edit<'_>,
        change: impl FnOnce(&mut Facility) -> Result<(), String>,
        answers: NewProposal,
        via: &str,
    ) -> Result<(Facility, i64), EditError> {
        self.with_conn(|c| {
            Ok(c.transaction(|c| {
                let f = edit_in(c, facility_id, expected_version, edit, change)?;
                let id = insert_proposal(
                    c,
                    facility_id,
                    None,
                    &answers,
                    f.version,
                    edit,
                    via,
                    Some("approved"),
                )?;
                Ok((f, id))
            }))
        })?
    }

    /// Delete the sample answer sets (`via = sample`); returns how many.
    pub fn delete_sample_answers(&self) -> Result<usize, StoreError> {
        self.with_conn(|c| {
            Ok(diesel::delete(proposals::table.filter(proposals::via.eq("sample"))).execute(c)?)
        })
    }

    /// Ids of the facilities holding sample bed status, admission rules or survey answers
    /// (`data/sample/`).
    pub fn sample_facility_ids(&self) -> Result<Vec<String>, StoreError> {
        use super::schema::{admission_rules, capacities};
        self.with_conn(|c| {
            let mut ids: Vec<String> = capacities::table
                .filter(capacities::sample.eq(true))
                .select(capacities::facility_id)
                .load(c)?;
            ids.extend(
                admission_rules::table
                    .filter(admission_rules::rules.like("%\"sample\":true%"))
                    .select(admission_rules::facility_id)
                    .load::<String>(c)?,
            );
            ids.extend(
                proposals::table
                    .filter(proposals::via.eq("sample"))
                    .select(proposals::facility_id)
                    .load::<String>(c)?,
            );
            ids.sort();
            ids.dedup();
            Ok(ids)
        })
    }

    /// Proposals with `status` (`None`: all), oldest first.
    pub fn proposals(&self, status: Option<&str>) -> Result<Vec<Proposal>, StoreError> {
        self.with_conn(|c| {
            let mut q = proposals::table
                .order(proposals::id)
                .select(Proposal::as_select())
                .into_boxed();
            if let Some(s) = status {
                q = q.filter(proposals::status.eq(s.to_string()));
            }
            Ok(q.load(c)?)
        })
    }

    pub fn proposal(&self, id: i64) -> Result<Option<Proposal>, StoreError> {
        self.with_conn(|c| {
            Ok(proposals::table
                .find(id)
                .select(Proposal::as_select())
                .first(c)
                .optional()?)
        })
    }

    /// Decide proposal `id` in one transaction: `change` (an approval's edit of the facility,
    /// `None` for a rejection) and the decision are written together, or neither.
    pub fn decide_proposal(
        &self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        edit: &Edit<'_>,
        change: Option<FacilityChange<'_>>,
    ) -> Result<Proposal, DecisionError> {
        self.with_conn(|c| {
            Ok(c.transaction(|c| {
                let p: Proposal = proposals::table
                    .find(id)
                    .select(Proposal::as_select())
                    .first(c)
                    .optional()?
                    .ok_or(DecisionError::NotFound)?;
                if p.status != "pending" {
                    return Err(DecisionError::Decided(p.status));
                }
                if let Some(change) = change {
                    let current = super::rows::read_facility(c, &p.facility_id)?
                        .ok_or(EditError::NotFound)?;
                    edit_in(c, &p.facility_id, current.version, edit, change)?;
                }
                diesel::update(proposals::table.find(id))
                    .set((
                        proposals::status.eq(if approve { "approved" } else { "rejected" }),
                        proposals::decided_by.eq(edit.actor),
                        proposals::decided_at.eq(edit.at),
                        proposals::reason.eq(reason),
                    ))
                    .execute(c)?;
                Ok(proposals::table
                    .find(id)
                    .select(Proposal::as_select())
                    .first(c)?)
            }))
        })?
    }
}

/// File one proposal (pending, or `decided` at once by `edit.actor`); returns its id.
#[allow(clippy::too_many_arguments)]
fn insert_proposal(
    c: &mut super::AnyConnection,
    facility_id: &str,
    link_id: Option<i64>,
    p: &NewProposal,
    version: i64,
    edit: &Edit<'_>,
    via: &str,
    decided: Option<&str>,
) -> Result<i64, diesel::result::Error> {
    diesel::insert_into(proposals::table)
        .values((
            proposals::facility_id.eq(facility_id),
            proposals::link_id.eq(link_id),
            proposals::changes.eq(&p.changes),
            proposals::note.eq(&p.note),
            proposals::base_version.eq(version),
            proposals::created_at.eq(edit.at),
            proposals::survey.eq(p.survey.as_ref().map(|s| s.0.as_str())),
            proposals::survey_version.eq(p.survey.as_ref().map(|s| s.1)),
            proposals::respondent.eq(&p.respondent),
            proposals::via.eq(via),
            proposals::status.eq(decided.unwrap_or("pending")),
            proposals::decided_by.eq(decided.map(|_| edit.actor)),
            proposals::decided_at.eq(decided.map(|_| edit.at)),
        ))
        .execute(c)?;
    proposals::table
        .filter(proposals::facility_id.eq(facility_id))
        .order(proposals::id.desc())
        .select(proposals::id)
        .first(c)
}
