//! Accounts, server-side sessions, API tokens and sign-in failures. Secrets never reach the
//! database in the clear: passwords as argon2id hashes, session ids and tokens as SHA-256.

use diesel::prelude::*;

use super::schema::{api_tokens, auth_failures, sessions, users};
use super::{AnyConnection, Store, StoreError};
use crate::domain::{Role, User};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    email: String,
    password_hash: String,
    role: String,
    areas: String,
    facilities: String,
    disabled: bool,
    created_at: String,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl UserRow {
    fn into_user(self) -> Result<(User, String), StoreError> {
        let role = Role::from_code(&self.role).ok_or(StoreError::Corrupt {
            column: "users.role",
            value: self.role.clone(),
        })?;
        Ok((
            User {
                id: self.id,
                email: self.email,
                role,
                areas: list(&self.areas),
                facilities: list(&self.facilities),
                disabled: self.disabled,
                created_at: self.created_at,
            },
            self.password_hash,
        ))
    }
}

/// A new account as given to [`Store::add_user`].
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub areas: &'a [String],
    pub facilities: &'a [String],
}

/// Changes to an account; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub areas: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// A live session: its account and CSRF token, and when it began and was last used.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf: String,
    pub created_at: String,
    pub last_seen_at: String,
}

pub(super) fn user_where(
    c: &mut AnyConnection,
    email: Option<&str>,
    id: Option<i64>,
) -> Result<Option<(User, String)>, StoreError> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(e) = email {
        q = q.filter(users::email.eq(e.to_string()));
    }
    if let Some(i) = id {
        q = q.filter(users::id.eq(i));
    }
    q.first::<UserRow>(c)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

impl Store {
    /// Add an account; an email already in use is [`StoreError::Conflict`].
    pub fn add_user(&self, new: &NewUser<'_>, at: &str) -> Result<User, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                if user_where(c, Some(new.email), None)?.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "an account with email {} exists",
                        new.email
                    )));
                }
                diesel::insert_into(users::table)
                    .values((
                        users::email.eq(new.email),
                        users::password_hash.eq(new.password_hash),
                        users::role.eq(new.role.code()),
                        users::areas.eq(new.areas.join(",")),
                        users::facilities.eq(new.facilities.join(",")),
                        users::disabled.eq(false),
                        users::created_at.eq(at),
                    ))
                    .execute(c)?;
                user_where(c, Some(new.email), None)?
                    .map(|(u, _)| u)
                    .ok_or(StoreError::NotFound)
            })
        })
    }

    /// Every account, by email.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.with_conn(|c| {
            users::table
                .order(users::email)
                .select(UserRow::as_select())
                .load::<UserRow>(c)?
                .into_iter()
                .map(|r| r.into_user().map(|(u, _)| u))
                .collect()
        })
    }

    /// An account and its password hash, by email.
    pub fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        self.with_conn(|c| user_where(c, Some(email), None))
    }

    pub fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.with_conn(|c| Ok(user_where(c, None, Some(id))?.map(|(u, _)| u)))
    }

    /// Change an account; disabling it also ends its sessions and revokes its tokens.
    pub fn update_user(&self, id: i64, change: &UserChange) -> Result<User, StoreError> {
        self.with_conn(|c| {
            c.transaction(|c| {
                let (mut user, mut hash) =
                    user_where(c, None, Some(id))?.ok_or(StoreError::NotFound)?;
                if let Some(r) = change.role {
                    user.role = r;
                }
                if let Some(a) = &change.areas {
                    user.areas = a.clone();
                }
                if let Some(f) = &change.facilities {
                    user.facilities = f.clone();
                }
                if let Some(d) = change.disabled {
                    user.disabled = d;
                }
                if let Some(h) = &change.password_hash {
                    hash = h.clone();
                }
                diesel::update(users::table.filter(users::id.eq(id)))
                    .set((
                        users::role.eq(user.role.code()),
                        users::areas.eq(user.areas.join(",")),
                        users::facilities.eq(user.facilities.join(",")),
                        users::disabled.eq(user.disabled),
                        users::password_hash.eq(hash),
                    ))
                    .execute(c)?;
                if user.disabled {
                    diesel::update(sessions::table.filter(sessions::user_id.eq(id)))
                        .set(sessions::revoked.eq(true))
                        .execute(c)?;
                    diesel::update(api_tokens::table.filter(api_tokens::user_id.eq(id)))
                        .set(api_tokens::revoked.eq(true))
                        .execute(c)?;
                }
                Ok(user)
            })
        })
    }

    pub fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(token_hash),
                    sessions::user_id.eq(user_id),
                    sessions::csrf.eq(csrf),
                    sessions::created_at.eq(at),
                    sessions::last_seen_at.eq(at),
                    sessions::revoked.eq(false),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    /// The live session with this id hash (not revoked, account not disabled). Expiry is the
    /// caller's rule: it gets both dates.
    pub fn session(&self, token_hash: &str) -> Result<Option<SessionInfo>, StoreError> {
        self.with_conn(|c| {
            let row: Option<(i64, String, String, String)> = sessions::table
                .filter(sessions::token_hash.eq(token_hash))
                .filter(sessions::revoked.eq(false))
                .select((
                    sessions::user_id,
                    sessions::csrf,
                    sessions::created_at,
                    sessions::last_seen_at,
                ))
                .first(c)
                .optional()?;
            let Some((uid, csrf, created_at, last_seen_at)) = row else {
                return Ok(None);
            };
            Ok(user_where(c, None, Some(uid))?
                .map(|(u, _)| u)
                .filter(|u| !u.disabled)
                .map(|user| SessionInfo {
                    user,
                    csrf,
                    created_at,
                    last_seen_at,
                }))
        })
    }

    pub fn touch_session(&self, token_hash: &str, at: &str) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::update(sessions::table.filter(sessions::token_hash.eq(token_hash)))
                .set(sessions::last_seen_at.eq(at))
                .execute(c)?;
            Ok(())
        })
    }

    pub fn revoke_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::update(sessions::table.filter(sessions::token_hash.eq(token_hash)))
                .set(sessions::revoked.eq(true))
                .execute(c)?;
            Ok(())
        })
    }

    pub fn create_token(
        &self,
        token_hash: &str,
        user_id: i64,
        name: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::token_hash.eq(token_hash),
                    api_tokens::user_id.eq(user_id),
                    api_tokens::name.eq(name),
                    api_tokens::created_at.eq(at),
                    api_tokens::revoked.eq(false),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    /// The account of a live API token.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        self.with_conn(|c| {
            let uid: Option<i64> = api_tokens::table
                .filter(api_tokens::token_hash.eq(token_hash))
                .filter(api_tokens::revoked.eq(false))
                .select(api_tokens::user_id)
                .first(c)
                .optional()?;
            let Some(uid) = uid else { return Ok(None) };
            Ok(user_where(c, None, Some(uid))?
                .map(|(u, _)| u)
                .filter(|u| !u.disabled))
        })
    }

    /// Revoke an account's tokens named `name` (every token when `None`); how many.
    pub fn revoke_tokens(&self, user_id: i64, name: Option<&str>) -> Result<usize, StoreError> {
        self.with_conn(|c| {
            let mut n = 0;
            let rows: Vec<(String, String)> = api_tokens::table
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked.eq(false))
                .select((api_tokens::token_hash, api_tokens::name))
                .load(c)?;
            for (hash, token_name) in rows {
                if name.is_none_or(|x| x == token_name) {
                    n += diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(hash)))
                        .set(api_tokens::revoked.eq(true))
                        .execute(c)?;
                }
            }
            Ok(n)
        })
    }

    /// Record a failed sign-in against `subject` (`email:…` or `ip:…`).
    pub fn record_auth_failure(&self, subject: &str, at: &str) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::insert_into(auth_failures::table)
                .values((auth_failures::subject.eq(subject), auth_failures::at.eq(at)))
                .execute(c)?;
            Ok(())
        })
    }

    /// Failures of `subject` at or after `since` (RFC 3339, UTC): how many, and the oldest.
    pub fn auth_failures_since(
        &self,
        subject: &str,
        since: &str,
    ) -> Result<(usize, Option<String>), StoreError> {
        self.with_conn(|c| {
            let ats: Vec<String> = auth_failures::table
                .filter(auth_failures::subject.eq(subject))
                .filter(auth_failures::at.ge(since))
                .order(auth_failures::at)
                .select(auth_failures::at)
                .load(c)?;
            Ok((ats.len(), ats.into_iter().next()))
        })
    }

    /// Forget a subject's failures (after a successful sign-in).
    pub fn clear_auth_failures(&self, subject: &str) -> Result<(), StoreError> {
        self.with_conn(|c| {
            diesel::delete(auth_failures::table.filter(auth_failures::subject.eq(subject)))
                .execute(c)?;
            Ok(())
        })
    }
}
