//! Staff users as administrators manage them in the web interface: list, create with a one-time
//! password, change roles, deactivate and reactivate, reset a password, revoke API tokens.
//!
//! An administrator can never lock themselves out: deactivating oneself or dropping one's own
//! `admin` role is refused, so an installation cannot lose its last way in by a slip of the
//! mouse. Every refusal is German and names the field it is about.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

use super::ServiceError;
use super::admin_log::{self, Administrator};
use super::first_run::one_time_password;
use crate::auth::Passwords;
use crate::db::models::{NewUser, Organisation, OrganisationId, Role, User, UserId};
use crate::db::schema::{
    calendar_tokens, case_assignments, cases, follow_ups, organisations, ui_sessions, user_roles,
    users,
};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::designation::designation;
use crate::engine::data::DataError;

/// Longest display name; longer text is a paste error.
const NAME_MAX: usize = 200;
/// Longest e-mail address (RFC 5321 path limit).
const EMAIL_MAX: usize = 254;

/// A user as the administration pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub organisation_key: String,
    pub organisation_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    /// The one-time password has not been replaced yet.
    pub must_change_password: bool,
    /// The user has a password of vorgang; without one, only the proxy logs the user in.
    pub has_password: bool,
    /// Wiedervorlagen the user set that are still open (they show on no start page and are
    /// mailed to nobody once the account is deactivated).
    pub open_follow_ups: i64,
    /// Running cases the user is responsible for (`service::assignments`); once the account is
    /// deactivated, their tasks are nobody's until someone takes them over.
    pub assigned_cases: i64,
}

/// The fields of the „Benutzer anlegen“ form, as typed.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// Key (or AGS) of the organisation.
    pub organisation: String,
    pub roles: Vec<Role>,
}

/// A user just created, with the one-time password to show exactly once.
pub struct CreatedUser {
    pub user: UserView,
    /// Never stored in clear text; the page shows it once.
    pub password: String,
}

impl std::fmt::Debug for CreatedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedUser")
            .field("user", &self.user)
            .field("password", &"<verborgen>")
            .finish()
    }
}

/// Every user, ordered by e-mail address, with organisation and roles (three queries).
pub fn list(conn: &mut DbConnection) -> Result<Vec<UserView>, ServiceError> {
    let rows: Vec<User> = users::table
        .order(users::email)
        .select(User::as_select())
        .load(conn)?;
    views(conn, rows)
}

/// One user.
pub fn show(conn: &mut DbConnection, id: UserId) -> Result<UserView, ServiceError> {
    let user = User::find_by_id(conn, id)?.ok_or_else(unknown)?;
    views(conn, vec![user])?.pop().ok_or_else(unknown)
}

fn unknown() -> ServiceError {
    ServiceError::NotFound("Diesen Benutzer gibt es nicht.".into())
}

fn views(conn: &mut DbConnection, rows: Vec<User>) -> Result<Vec<UserView>, ServiceError> {
    let ids: Vec<UserId> = rows.iter().map(|u| u.id).collect();
    let mut roles: HashMap<UserId, Vec<Role>> = HashMap::new();
    let role_rows: Vec<(UserId, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    for (user, role) in role_rows {
        if let Ok(role) = role.parse::<Role>() {
            roles.entry(user).or_default().push(role);
        }
    }
    let organisation_ids: Vec<OrganisationId> = rows.iter().map(|u| u.organisation_id).collect();
    let names: HashMap<OrganisationId, (String, String)> = organisations::table
        .filter(organisations::id.eq_any(&organisation_ids))
        .select((
            organisations::id,
            organisations::key,
            organisations::kind,
            organisations::name,
        ))
        .load::<(OrganisationId, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, key, kind, name)| (id, (key, designation(&kind, &name).into_owned())))
        .collect();
    let raw_ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let open_follow_ups: HashMap<i64, i64> = follow_ups::table
        .filter(follow_ups::user_id.eq_any(&raw_ids))
        .filter(follow_ups::done_at.is_null())
        .group_by(follow_ups::user_id)
        .select((follow_ups::user_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let assigned_cases: HashMap<i64, i64> = case_assignments::table
        .inner_join(cases::table)
        .filter(case_assignments::user_id.eq_any(&raw_ids))
        .filter(cases::status.eq_any(["new", "running"]))
        .group_by(case_assignments::user_id)
        .select((case_assignments::user_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|u| {
            let (organisation_key, organisation_name) =
                names.get(&u.organisation_id).cloned().unwrap_or_default();
            let mut user_roles = roles.remove(&u.id).unwrap_or_default();
            user_roles.sort();
            UserView {
                id: u.id,
                email: u.email,
                name: u.display_name,
                organisation_key,
                organisation_name,
                roles: user_roles,
                active: u.active,
                must_change_password: u.must_change_password,
                has_password: u.password_hash.is_some(),
                open_follow_ups: open_follow_ups.get(&u.id.0).copied().unwrap_or(0),
                assigned_cases: assigned_cases.get(&u.id.0).copied().unwrap_or(0),
            }
        })
        .collect())
}

fn error(pointer: &str, message: impl Into<String>) -> DataError {
    DataError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// A plausible login address, lower-cased (the same rule as `vorgang user add`, plus what lettre
/// needs to mail the user).
fn check_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Bitte geben Sie die E-Mail-Adresse an.".into());
    }
    let lower = text.to_lowercase();
    let plausible = lower.chars().count() <= EMAIL_MAX
        && !lower.chars().any(|c| c.is_whitespace() || c.is_control())
        && lower.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && lower.parse::<lettre::Address>().is_ok();
    if plausible {
        Ok(lower)
    } else {
        Err(format!(
            "„{text}“ ist keine gültige E-Mail-Adresse (Form: name@beispiel.de)."
        ))
    }
}

fn check_roles(roles: &[Role], errors: &mut Vec<DataError>) -> Vec<Role> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        errors.push(error("/roles", "Bitte wählen Sie mindestens eine Rolle."));
    }
    roles
}

/// Creates a user with a random one-time password (hashed with `passwords`) that must be changed
/// at the first login, recorded as done by `by`. Every field error at once; a taken address is
/// a field error too.
pub fn create(
    conn: &mut DbConnection,
    passwords: &Passwords,
    input: &CreateUser,
    by: &Administrator,
    at: NaiveDateTime,
) -> Result<CreatedUser, ServiceError> {
    let mut errors = Vec::new();
    let email = check_email(&input.email)
        .map_err(|message| errors.push(error("/email", message)))
        .ok();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(error("/name", "Bitte geben Sie den Namen an."));
    } else if name.chars().count() > NAME_MAX {
        errors.push(error(
            "/name",
            format!("Der Name darf höchstens {NAME_MAX} Zeichen lang sein."),
        ));
    } else if name.chars().any(char::is_control) {
        errors.push(error(
            "/name",
            "Der Name darf keine Steuerzeichen (z. B. Zeilenumbrüche) enthalten.",
        ));
    }
    let organisation = match input.organisation.trim() {
        "" => {
            errors.push(error("/organisation", "Bitte wählen Sie die Organisation."));
            None
        }
        key => {
            let found = Organisation::find_by_key(conn, key)?;
            if found.is_none() {
                errors.push(error(
                    "/organisation",
                    format!("Die Organisation „{key}“ gibt es nicht."),
                ));
            }
            found
        }
    };
    let roles = check_roles(&input.roles, &mut errors);
    if let Some(email) = &email
        && User::find_by_email(conn, email)?.is_some()
    {
        errors.push(error("/email", taken(email)));
    }
    let (Some(email), Some(organisation), true) = (email, organisation, errors.is_empty()) else {
        return Err(ServiceError::InvalidInput(errors));
    };
    let (password, hash) = new_one_time_password(passwords)?;
    let mut new_user = NewUser::new(organisation.id, &email, name);
    new_user.password_hash = Some(hash);
    new_user.must_change_password = true;
    // The user with its roles and the clock's timestamps, or nothing.
    let user = write_transaction(conn, |conn| {
        let user = new_user.create(conn, &roles)?;
        diesel::update(users::table.find(user.id))
            .set((users::created_at.eq(at), users::updated_at.eq(at)))
            .execute(conn)?;
        admin_log::record(
            conn,
            at,
            &by.email,
            admin_log::USER_CREATED,
            &email,
            &json!({ "organisation": organisation.key, "roles": role_names(&roles) }),
        )?;
        Ok(user)
    })
    .map_err(|e| match e {
        // Another administrator took the address since the check above.
        DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            ServiceError::InvalidInput(vec![error("/email", taken(&email))])
        }
        other => ServiceError::Db(other),
    })?;
    tracing::info!(user_id = %user.id, "user created in the web interface");
    Ok(CreatedUser {
        user: show(conn, user.id)?,
        password,
    })
}

/// A random one-time password and its hash.
fn new_one_time_password(passwords: &Passwords) -> Result<(String, String), ServiceError> {
    let password = one_time_password().map_err(|e| ServiceError::Internal(e.to_string()))?;
    let hash = passwords
        .hash(&password)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok((password, hash))
}

/// Roles as stored, for the record.
fn role_names(roles: &[Role]) -> Vec<&'static str> {
    roles.iter().map(|role| role.as_str()).collect()
}

fn taken(email: &str) -> String {
    format!("Es gibt bereits einen Benutzer mit der E-Mail-Adresse „{email}“.")
}

/// Replaces the roles of `user`; `actor` (the administrator) may not drop their own `admin`.
pub fn set_roles(
    conn: &mut DbConnection,
    actor: &Administrator,
    user: UserId,
    roles: &[Role],
    at: NaiveDateTime,
) -> Result<UserView, ServiceError> {
    let mut errors = Vec::new();
    let roles = check_roles(roles, &mut errors);
    if actor.id == user && !roles.contains(&Role::Admin) {
        errors.push(error(
            "/roles",
            "Sie können sich die Rolle Administration nicht selbst entziehen. Bitten Sie eine \
             andere Administratorin oder einen anderen Administrator darum.",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::InvalidInput(errors));
    }
    write_transaction(conn, |conn| {
        let account = User::find_by_id(conn, user)?.ok_or_else(unknown)?;
        let before = account.roles(conn)?;
        diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user))).execute(conn)?;
        for role in &roles {
            diesel::insert_into(user_roles::table)
                .values((
                    user_roles::user_id.eq(user),
                    user_roles::role.eq(role.as_str()),
                ))
                .execute(conn)?;
        }
        diesel::update(users::table.find(user))
            .set(users::updated_at.eq(at))
            .execute(conn)?;
        admin_log::record(
            conn,
            at,
            &actor.email,
            admin_log::ROLES_CHANGED,
            &account.email,
            &json!({ "before": role_names(&before), "after": role_names(&roles) }),
        )?;
        tracing::info!(user_id = %user, actor = %actor.id, "user roles replaced");
        show(conn, user)
    })
}

/// Gives `user` a new random one-time password (hashed with `passwords`) that must be replaced
/// at the next login, and ends the user's web sessions, API tokens and calendar feed addresses:
/// for a forgotten password, or one that may have been seen by others (who could have made
/// themselves a token or a feed address with it). `actor` changes their own password themselves.
pub fn reset_password(
    conn: &mut DbConnection,
    passwords: &Passwords,
    actor: &Administrator,
    user: UserId,
    at: NaiveDateTime,
) -> Result<CreatedUser, ServiceError> {
    if actor.id == user {
        return Err(ServiceError::Unprocessable(
            "Ihr eigenes Passwort ändern Sie unter „Passwort ändern“.".into(),
        ));
    }
    let (password, hash) = new_one_time_password(passwords)?;
    let view = write_transaction(conn, |conn| {
        let updated = diesel::update(users::table.find(user))
            .set((
                users::password_hash.eq(Some(hash)),
                users::must_change_password.eq(true),
                users::updated_at.eq(at),
                users::token_generation.eq(users::token_generation + 1),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Err(unknown());
        }
        end_sessions_and_feeds(conn, user, at)?;
        let view = show(conn, user)?;
        admin_log::record(
            conn,
            at,
            &actor.email,
            admin_log::PASSWORD_RESET,
            &view.email,
            &json!({}),
        )?;
        Ok(view)
    })?;
    tracing::info!(user_id = %user, actor = %actor.id, "one-time password issued");
    Ok(CreatedUser {
        user: view,
        password,
    })
}

/// Deactivates (ending the user's web sessions and calendar feed addresses) or reactivates
/// `user`; `actor` may not deactivate themselves. Either way the user's API tokens end: a
/// deactivated user's are refused anyway, and reactivation must not bring them back (nor the feed
/// addresses, which are revoked for good).
pub fn set_active(
    conn: &mut DbConnection,
    actor: &Administrator,
    user: UserId,
    active: bool,
    at: NaiveDateTime,
) -> Result<UserView, ServiceError> {
    if actor.id == user && !active {
        return Err(ServiceError::Unprocessable(
            "Sie können Ihr eigenes Konto nicht deaktivieren.".into(),
        ));
    }
    write_transaction(conn, |conn| {
        let updated = diesel::update(users::table.find(user))
            .set((
                users::active.eq(active),
                users::updated_at.eq(at),
                users::token_generation.eq(users::token_generation + 1),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Err(unknown());
        }
        if !active {
            end_sessions_and_feeds(conn, user, at)?;
        }
        let view = show(conn, user)?;
        admin_log::record(
            conn,
            at,
            &actor.email,
            admin_log::ACTIVATION_CHANGED,
            &view.email,
            &json!({ "active": active }),
        )?;
        tracing::info!(user_id = %user, actor = %actor.id, active, "user activation changed");
        Ok(view)
    })
}

/// Ends every API access token of `user` (for a token that leaked, or a program that must stop
/// at once); the web sessions stay. Administrators may do this to their own account too.
pub fn revoke_tokens(
    conn: &mut DbConnection,
    actor: &Administrator,
    user: UserId,
    at: NaiveDateTime,
) -> Result<UserView, ServiceError> {
    write_transaction(conn, |conn| {
        if !raise_token_generation(conn, user, at)? {
            return Err(unknown());
        }
        let view = show(conn, user)?;
        admin_log::record(
            conn,
            at,
            &actor.email,
            admin_log::TOKENS_REVOKED,
            &view.email,
            &json!({}),
        )?;
        tracing::info!(user_id = %user, actor = %actor.id, "API tokens revoked");
        Ok(view)
    })
}

/// Ends every API access token of `user`, at their own request (`DELETE /api/v1/auth/token`, or
/// the account page): signing off everywhere, or a token that leaked. Not in the
/// administration's record, like a logout; an administrator's revocation is [`revoke_tokens`].
pub fn revoke_own_tokens(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        if !raise_token_generation(conn, user, at)? {
            return Err(unknown());
        }
        Ok(())
    })?;
    tracing::info!(user_id = %user, "own API tokens revoked");
    Ok(())
}

/// Ends the web sessions of `user` and revokes every calendar feed address that is still valid
/// (those rows stay, marked, as the user's list shows them): what a reset password or a
/// deactivated account must take along besides the tokens.
fn end_sessions_and_feeds(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    diesel::delete(ui_sessions::table.filter(ui_sessions::user_id.eq(user))).execute(conn)?;
    diesel::update(
        calendar_tokens::table
            .filter(calendar_tokens::user_id.eq(user.0))
            .filter(calendar_tokens::revoked_at.is_null()),
    )
    .set(calendar_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Raises the token generation of `user`; `false` when there is no such user.
fn raise_token_generation(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> Result<bool, ServiceError> {
    let updated = diesel::update(users::table.find(user))
        .set((
            users::updated_at.eq(at),
            users::token_generation.eq(users::token_generation + 1),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_addresses_are_lower_cased_and_checked() {
        assert_eq!(
            check_email(" Anna@Kreis-Kleve.DE ").unwrap(),
            "anna@kreis-kleve.de"
        );
        for bad in [
            "",
            "anna",
            "anna@kleve",
            "a b@kleve.de",
            "@kleve.de",
            "a@b@c.de",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn at_least_one_role_without_duplicates() {
        let mut errors = Vec::new();
        assert_eq!(
            check_roles(&[Role::Lesen, Role::Admin, Role::Lesen], &mut errors),
            [Role::Admin, Role::Lesen]
        );
        assert!(errors.is_empty());
        check_roles(&[], &mut errors);
        assert_eq!(errors[0].pointer, "/roles");
    }
}
