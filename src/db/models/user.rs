//! Staff users: they log in, belong to one organisation and hold roles.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::id_newtype;
use super::organisation::OrganisationId;
use crate::db::schema::{user_roles, users};
use crate::db::{DbConnection, DbError, write_alone, write_transaction};

id_newtype!(
    /// Primary key of `users`.
    UserId
);

/// What a user may do; every permission decision starts from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, across organisations.
    Admin,
    /// Works the cases of the own organisation.
    Koordination,
    /// Sees submitted cases of all applicants and takes approval actions.
    Bewilligung,
    /// Reads within the own organisation.
    Lesen,
}

impl Role {
    /// Every role, in the order shown to people.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Koordination,
        Role::Bewilligung,
        Role::Lesen,
    ];

    /// The value stored in `user_roles.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Koordination => "koordination",
            Role::Bewilligung => "bewilligung",
            Role::Lesen => "lesen",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unbekannte Rolle „{value}“ (bekannt: admin, koordination, bewilligung, lesen)"
                )
            })
    }
}

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    /// Always lower case; unique.
    pub email: String,
    pub display_name: String,
    /// Argon2 PHC string; `None` means the user cannot log in with a password.
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The web interface sends the user to the password form until this is cleared (set for
    /// the first-run administrator, whose one-time password was printed on the console).
    pub must_change_password: bool,
    /// Staff tokens issued in another generation are refused; raised to end them all.
    pub token_generation: i32,
}

/// What is needed to create a user.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub organisation_id: OrganisationId,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    /// Whether the first web login must set a new password (`false` for `vorgang user add`).
    pub must_change_password: bool,
}

impl NewUser {
    /// A new user; the e-mail address is normalised to lower case.
    pub fn new(organisation_id: OrganisationId, email: &str, display_name: &str) -> Self {
        Self {
            organisation_id,
            email: email.trim().to_lowercase(),
            display_name: display_name.trim().to_string(),
            password_hash: None,
            must_change_password: false,
        }
    }

    /// Inserts the user together with its roles in one transaction.
    pub fn create(&self, conn: &mut DbConnection, roles: &[Role]) -> Result<User, DbError> {
        write_transaction(conn, |conn| {
            diesel::insert_into(users::table)
                .values(self)
                .execute(conn)?;
            let user = User::find_by_email(conn, &self.email)?.ok_or(diesel::NotFound)?;
            for role in roles {
                diesel::insert_into(user_roles::table)
                    .values((
                        user_roles::user_id.eq(user.id),
                        user_roles::role.eq(role.as_str()),
                    ))
                    .execute(conn)?;
            }
            Ok(user)
        })
    }
}

impl User {
    /// Looks a user up by id: a token names its user by id, and every request reloads it.
    pub fn find_by_id(conn: &mut DbConnection, id: UserId) -> Result<Option<Self>, DbError> {
        Ok(users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// Replaces the password hash (an Argon2 PHC string) and ends the user's staff tokens;
    /// returns whether the user existed.
    pub fn set_password_hash(
        conn: &mut DbConnection,
        id: UserId,
        password_hash: &str,
    ) -> Result<bool, DbError> {
        let updated = write_alone(conn, |conn| {
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(password_hash),
                    users::updated_at.eq(chrono::Utc::now().naive_utc()),
                    users::token_generation.eq(users::token_generation + 1),
                ))
                .execute(conn)
        })?;
        Ok(updated == 1)
    }

    /// Sets a new password hash chosen by the user, clears `must_change_password` and ends the
    /// user's staff tokens (a password changed because it leaked must take its tokens along).
    pub fn change_password(
        conn: &mut DbConnection,
        id: UserId,
        password_hash: &str,
    ) -> Result<bool, DbError> {
        let updated = write_alone(conn, |conn| {
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(password_hash),
                    users::must_change_password.eq(false),
                    users::updated_at.eq(chrono::Utc::now().naive_utc()),
                    users::token_generation.eq(users::token_generation + 1),
                ))
                .execute(conn)
        })?;
        Ok(updated == 1)
    }

    /// Sets the first password of a user who has none (one the proxy logs in), chosen by the
    /// user; false when the user has one by now, which only [`Self::change_password`] replaces.
    pub fn set_first_password(
        conn: &mut DbConnection,
        id: UserId,
        password_hash: &str,
    ) -> Result<bool, DbError> {
        let updated = write_alone(conn, |conn| {
            diesel::update(users::table.find(id).filter(users::password_hash.is_null()))
                .set((
                    users::password_hash.eq(password_hash),
                    users::must_change_password.eq(false),
                    users::updated_at.eq(chrono::Utc::now().naive_utc()),
                    users::token_generation.eq(users::token_generation + 1),
                ))
                .execute(conn)
        })?;
        Ok(updated == 1)
    }

    /// Forgets a one-time password the user has not replaced yet, without asking for another:
    /// a trusted proxy vouched for the user (single sign-on), who then needs no password of
    /// vorgang, and the one the administration handed out must not stay valid for whoever saw
    /// it. False when there was none pending (already replaced, or discarded by a parallel
    /// login).
    pub fn discard_one_time_password(conn: &mut DbConnection, id: UserId) -> Result<bool, DbError> {
        let updated = write_alone(conn, |conn| {
            diesel::update(
                users::table
                    .find(id)
                    .filter(users::must_change_password.eq(true)),
            )
            .set((
                users::password_hash.eq(None::<String>),
                users::must_change_password.eq(false),
                users::updated_at.eq(chrono::Utc::now().naive_utc()),
                users::token_generation.eq(users::token_generation + 1),
            ))
            .execute(conn)
        })?;
        Ok(updated == 1)
    }

    /// Whether any user exists at all (the first start creates an administrator when not).
    pub fn any_exists(conn: &mut DbConnection) -> Result<bool, DbError> {
        Ok(diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)?)
    }

    /// Looks a user up by e-mail address, case-insensitively.
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Self>, DbError> {
        // No address holds a NUL character (they are checked when users are created), and
        // PostgreSQL cannot compare text with one: such an address is unknown without asking.
        if email.contains('\0') {
            return Ok(None);
        }
        Ok(users::table
            .filter(users::email.eq(email.trim().to_lowercase()))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The roles this user holds, sorted.
    pub fn roles(&self, conn: &mut DbConnection) -> Result<Vec<Role>, DbError> {
        let names: Vec<String> = user_roles::table
            .filter(user_roles::user_id.eq(self.id))
            .select(user_roles::role)
            .load(conn)?;
        let mut roles: Vec<Role> = names.iter().filter_map(|n| n.parse().ok()).collect();
        roles.sort();
        Ok(roles)
    }
}
