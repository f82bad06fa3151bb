//! Events and calendar feeds in the store. Events are read from the database on every request
//! (no catalog cache), so every instance agrees at once; each write is one transaction that
//! checks the version and appends a change-log row (entity `event`).

use diesel::prelude::*;
use serde::Serialize;

use super::edit::Edit;
use super::schema::{calendar_feeds, change_log, events};
use super::{AnyConnection, Store, StoreError};
use crate::domain::{Event, User};

/// The outcome of a versioned write.
#[derive(Debug, Clone)]
pub enum EventWrite {
    Done(Box<Event>),
    NotFound,
    /// The event moved on since the version the writer had; it is now this.
    Stale(Box<Event>),
}

/// A calendar subscription of an account (its token is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CalendarFeed {
    pub id: i64,
    pub label: Option<String>,
    pub area: Option<String>,
    pub audience: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

type FeedRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

fn feed_of(r: FeedRow) -> CalendarFeed {
    CalendarFeed {
        id: r.0,
        label: r.1,
        area: r.2,
        audience: r.3,
        created_at: r.4,
        last_used_at: r.5,
    }
}

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse(body: String) -> Result<Event, StoreError> {
    serde_json::from_str(&body).map_err(|_| StoreError::Corrupt {
        column: "events.body",
        value: body.chars().take(200).collect(),
    })
}

fn read(c: &mut AnyConnection, id: &str) -> Result<Option<Event>, StoreError> {
    events::table
        .find(id)
        .select(events::body)
        .first::<String>(c)
        .optional()?
        .map(parse)
        .transpose()
}

fn logged(
    c: &mut AnyConnection,
    id: &str,
    old: Option<&Event>,
    new: Option<&Event>,
    edit: &Edit<'_>,
) -> Result<(), StoreError> {
    let json = |e: Option<&Event>| e.map(|e| serde_json::to_string(e).unwrap_or_default());
    diesel::insert_into(change_log::table)
        .values((
            change_log::at.eq(edit.at),
            change_log::actor.eq(edit.actor),
            change_log::entity.eq("event"),
            change_log::entity_id.eq(id),
            change_log::field.eq("event"),
            change_log::old_value.eq(json(old)),
            change_log::new_value.eq(json(new)),
            change_log::source.eq(edit.source),
        ))
        .execute(c)?;
    Store::notify(c)
}

/// Write `e` as row `e.id` (insert or update).
fn write(c: &mut AnyConnection, e: &Event, insert: bool) -> Result<(), StoreError> {
    let body = serde_json::to_string(e).unwrap_or_default();
    let values = (
        events::kind.eq(e.kind.code()),
        events::visibility.eq(code(&e.audience.visibility)),
        events::status.eq(code(&e.status)),
        events::organizer_facility_id.eq(e.organizer.facility_id.as_deref()),
        events::areas.eq(e.areas.join(",")),
        events::start_date.eq(e.schedule.start.to_string()),
        events::body.eq(&body),
        events::version.eq(e.version),
        events::created_by.eq(&e.created_by),
        events::created_at.eq(&e.created_at),
        events::updated_at.eq(&e.updated_at),
    );
    if insert {
        diesel::insert_into(events::table)
            .values((events::id.eq(&e.id), values))
            .execute(c)?;
    } else {
        diesel::update(events::table.find(&e.id))
            .set(values)
            .execute(c)?;
    }
    Ok(())
}

impl Store {
    /// Every event, by first date.
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        self.with_conn(|c| {
            events::table
                .order((events::start_date, events::id))
                .select(events::body)
                .load::<String>(c)?
                .into_iter()
                .map(parse)
                .collect()
        })
    }

    pub fn event(&self, id: &str) -> Result<Option<Event>, StoreError> {
        self.with_conn(|c| read(c, id))
    }

    /// Add `e` at version 1 (its id must be new).
    pub fn create_event(&self, e: &Event, edit: &Edit<'_>) -> Result<Event, StoreError> {
        let mut e = e.clone();
        e.version = 1;
        self.with_conn(|c| {
            c.transaction(|c| {
                if read(c, &e.id)?.is_some() {
                    return Err(StoreError::Conflict(format!("event {} exists", e.id)));
                }
                write(c, &e, true)?;
                logged(c, &e.id, None, Some(&e), edit)?;
                Ok(e)
            })
        })
    }

    /// Replace event `e.id` if it is still at `expected`; the version goes up by one.
    pub fn replace_event(
        &self,
        e: &Event,
        expected: i64,
        edit: &Edit<'_>,
    ) -> Result<EventWrite, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                let Some(old) = read(c, &e.id)? else {
                    return Ok(EventWrite::NotFound);
                };
                if old.version != expected {
                    return Ok(EventWrite::Stale(Box::new(old)));
                }
                let mut new = e.clone();
                new.version = old.version + 1;
                new.created_by = old.created_by.clone();
                new.created_at = old.created_at.clone();
                write(c, &new, false)?;
                logged(c, &new.id, Some(&old), Some(&new), edit)?;
                Ok(EventWrite::Done(Box::new(new)))
            })
        })
    }

    /// Delete event `id` if it is still at `expected`.
    pub fn delete_event(
        &self,
        id: &str,
        expected: i64,
        edit: &Edit<'_>,
    ) -> Result<EventWrite, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                let Some(old) = read(c, id)? else {
                    return Ok(EventWrite::NotFound);
                };
                if old.version != expected {
                    return Ok(EventWrite::Stale(Box::new(old)));
                }
                diesel::delete(events::table.find(id)).execute(c)?;
                logged(c, id, Some(&old), None, edit)?;
                Ok(EventWrite::Done(Box::new(old)))
            })
        })
    }

    /// Keep a new feed token's hash for `user_id`.
    pub fn add_calendar_feed(
        &self,
        user_id: i64,
        token_hash: &str,
        label: Option<&str>,
        area: Option<&str>,
        audience: Option<&str>,
        at: &str,
    ) -> Result<CalendarFeed, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                diesel::insert_into(calendar_feeds::table)
                    .values((
                        calendar_feeds::user_id.eq(user_id),
                        calendar_feeds::token_hash.eq(token_hash),
                        calendar_feeds::label.eq(label),
                        calendar_feeds::area.eq(area),
                        calendar_feeds::audience.eq(audience),
                        calendar_feeds::created_at.eq(at),
                    ))
                    .execute(c)?;
                let row: FeedRow = calendar_feeds::table
                    .filter(calendar_feeds::token_hash.eq(token_hash))
                    .select(FEED_COLUMNS)
                    .first(c)?;
                Ok(feed_of(row))
            })
        })
    }

    /// The feeds of `user_id`, oldest first.
    pub fn calendar_feeds(&self, user_id: i64) -> Result<Vec<CalendarFeed>, StoreError> {
        self.with_conn(|c| {
            Ok(calendar_feeds::table
                .filter(calendar_feeds::user_id.eq(user_id))
                .order(calendar_feeds::id)
                .select(FEED_COLUMNS)
                .load::<FeedRow>(c)?
                .into_iter()
                .map(feed_of)
                .collect())
        })
    }

    /// Delete feed `id` of `user_id`; false when that account has no such feed.
    pub fn delete_calendar_feed(&self, user_id: i64, id: i64) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            Ok(diesel::delete(
                calendar_feeds::table
                    .filter(calendar_feeds::id.eq(id))
                    .filter(calendar_feeds::user_id.eq(user_id)),
            )
            .execute(c)?
                > 0)
        })
    }

    /// The account a feed token stands for (not disabled), noting its use at `at` (at most
    /// once an hour, so a calendar polling every few minutes costs few writes).
    pub fn feed_user(&self, token_hash: &str, at: &str) -> Result<Option<User>, StoreError> {
        self.with_conn(|c| {
            let row: Option<(i64, i64, Option<String>)> = calendar_feeds::table
                .filter(calendar_feeds::token_hash.eq(token_hash))
                .select((
                    calendar_feeds::id,
                    calendar_feeds::user_id,
                    calendar_feeds::last_used_at,
                ))
                .first(c)
                .optional()?;
            let Some((id, uid, last)) = row else {
                return Ok(None);
            };
            if last.as_deref().is_none_or(|l| l.get(..13) != at.get(..13)) {
                diesel::update(calendar_feeds::table.find(id))
                    .set(calendar_feeds::last_used_at.eq(at))
                    .execute(c)?;
            }
            Ok(super::accounts::user_where(c, None, Some(uid))?
                .map(|(u, _)| u)
                .filter(|u| !u.disabled))
        })
    }
}

const FEED_COLUMNS: (
    calendar_feeds::id,
    calendar_feeds::label,
    calendar_feeds::area,
    calendar_feeds::audience,
    calendar_feeds::created_at,
    calendar_feeds::last_used_at,
) = (
    calendar_feeds::id,
    calendar_feeds::label,
    calendar_feeds::area,
    calendar_feeds::audience,
    calendar_feeds::created_at,
    calendar_feeds::last_used_at,
);
