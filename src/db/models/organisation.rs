//! Organisations: applicants (Kreise, kreisfreie Städte), authorities and partner bodies.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::id_newtype;
use crate::db::schema::organisations;
use crate::db::{DbConnection, DbError};

id_newtype!(
    /// Primary key of `organisations`.
    OrganisationId
);

/// What an organisation is; decides what it may do (only Kreise and kreisfreie Städte may apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A Kreis (the StädteRegion Aachen counts as one).
    Kreis,
    /// A kreisfreie Stadt.
    KreisfreieStadt,
    /// The Stadt Aachen: rights of a kreisfreie Stadt inside the StädteRegion.
    KreisfreieStadtInStaedteregion,
    /// A kreisangehörige Gemeinde: may suggest, never apply.
    Gemeinde,
    /// One of the five Bezirksregierungen.
    Bezirksregierung,
    /// The authority approving funding (Kompetenzzentrum für Integration).
    Bewilligungsbehoerde,
    /// A partner body consulted in a Beteiligung.
    Partner,
}

impl OrganisationKind {
    /// The value stored in `organisations.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kreis => "kreis",
            Self::KreisfreieStadt => "kreisfreie_stadt",
            Self::KreisfreieStadtInStaedteregion => "kreisfreie_stadt_in_staedteregion",
            Self::Gemeinde => "gemeinde",
            Self::Bezirksregierung => "bezirksregierung",
            Self::Bewilligungsbehoerde => "bewilligungsbehoerde",
            Self::Partner => "partner",
        }
    }

    /// Kreise and kreisfreie Städte (including Aachen) may apply for a Kommunales Integrationszentrum.
    pub fn may_apply(self) -> bool {
        matches!(
            self,
            Self::Kreis | Self::KreisfreieStadt | Self::KreisfreieStadtInStaedteregion
        )
    }
}

impl TryFrom<String> for OrganisationKind {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        [
            Self::Kreis,
            Self::KreisfreieStadt,
            Self::KreisfreieStadtInStaedteregion,
            Self::Gemeinde,
            Self::Bezirksregierung,
            Self::Bewilligungsbehoerde,
            Self::Partner,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
        .ok_or_else(|| format!("unknown organisation kind {value:?}"))
    }
}

/// A row of `organisations`.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: OrganisationId,
    /// AGS for Gebietskörperschaften (`05154`), a short code otherwise (`KFI`, `BR-ARNSBERG`).
    pub key: String,
    pub name: String,
    #[diesel(deserialize_as = String)]
    pub kind: OrganisationKind,
    pub parent_id: Option<OrganisationId>,
    pub regierungsbezirk: Option<String>,
    /// Functional mailbox for consultation mails.
    pub mailbox: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The head of the office (Leitung), who receives escalations of missed deadlines.
    pub head_email: Option<String>,
}

impl Organisation {
    /// The name as written in text („Kreis Coesfeld“), see [`crate::designation`].
    pub fn designation(&self) -> std::borrow::Cow<'_, str> {
        crate::designation::designation(self.kind.as_str(), &self.name)
    }

    /// All organisations, ordered by key.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<Self>, DbError> {
        Ok(organisations::table
            .order(organisations::key)
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The organisation with this id, if any.
    pub fn find(conn: &mut DbConnection, id: OrganisationId) -> Result<Option<Self>, DbError> {
        Ok(organisations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The organisations with these ids (those that exist), in one query.
    pub fn find_many(
        conn: &mut DbConnection,
        ids: &[OrganisationId],
    ) -> Result<Vec<Self>, DbError> {
        Ok(organisations::table
            .filter(organisations::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)?)
    }

    /// The organisation with this AGS or key, if any.
    pub fn find_by_key(conn: &mut DbConnection, key: &str) -> Result<Option<Self>, DbError> {
        Ok(organisations::table
            .filter(organisations::key.eq(key))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }
}

/// A new organisation, typically a partner body consulted in a Beteiligung.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub key: &'a str,
    pub name: &'a str,
    /// Stored kind (`partner`, `gemeinde`, …; see [`OrganisationKind::as_str`]).
    pub kind: &'a str,
    pub parent_id: Option<OrganisationId>,
    pub mailbox: Option<&'a str>,
}

impl NewOrganisation<'_> {
    /// Inserts the organisation and returns it as stored.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<Organisation, DbError> {
        diesel::insert_into(organisations::table)
            .values(self)
            .execute(conn)?;
        Organisation::find_by_key(conn, self.key)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}

impl Organisation {
    /// Replaces the functional mailbox and the further contact addresses.
    pub fn set_addresses(
        conn: &mut DbConnection,
        id: OrganisationId,
        mailbox: Option<&str>,
        contacts: &[(String, String)],
    ) -> Result<(), DbError> {
        use crate::db::schema::organisation_contacts;
        diesel::update(organisations::table.find(id))
            .set(organisations::mailbox.eq(mailbox))
            .execute(conn)?;
        diesel::delete(
            organisation_contacts::table.filter(organisation_contacts::organisation_id.eq(id)),
        )
        .execute(conn)?;
        for (email, name) in contacts {
            diesel::insert_into(organisation_contacts::table)
                .values((
                    organisation_contacts::organisation_id.eq(id),
                    organisation_contacts::email.eq(email),
                    organisation_contacts::name.eq(name),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}
