//! The demo's cast at work: the offices' addresses, the partner bodies and the users, and
//! the check that the demo reaches no real address.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::DemoUser;
use crate::db::models::{NewUser, Organisation, User};
use crate::db::schema::{organisation_contacts, user_roles, users};
use crate::service::ServiceError;
use crate::service::organisations::{
    self as registry, ContactInput, RegisterOrganisation, ReplaceAddresses,
};

use super::{BIELEFELD_PARTNERS, COESFELD_PARTNERS, Loader, OFFICES, USERS, display_name};

impl Loader<'_, '_> {
    /// Demo mails go to the offices' addresses, to the users of the offices' roles and to every
    /// user of the Bewilligungsbehörde's role: none of them may be a real person. Nor may the
    /// demo's users or partner keys exist already.
    pub(super) fn check_nobody_real_is_reached(&mut self) -> Result<(), ServiceError> {
        let refuse = |what: String| {
            ServiceError::Conflict(format!(
                "Die Demodaten werden nicht geladen: {what} Die Demo würde E-Mails dorthin \
                 schicken. Sie ist für eine leere Installation oder eine Testdatenbank gedacht."
            ))
        };
        for (key, _, _) in OFFICES {
            let office = self.organisation(key)?;
            let contacts: i64 = organisation_contacts::table
                .filter(organisation_contacts::organisation_id.eq(office.id))
                .count()
                .get_result(self.conn)?;
            if office.mailbox.is_some() || office.head_email.is_some() || contacts > 0 {
                return Err(refuse(format!(
                    "Für {} sind bereits E-Mail-Adressen hinterlegt.",
                    office.name
                )));
            }
            let office_users: Vec<String> = users::table
                .inner_join(user_roles::table)
                .filter(users::organisation_id.eq(office.id))
                .filter(user_roles::role.eq_any(["koordination", "lesen"]))
                .filter(users::active.eq(true))
                .select(users::email)
                .load(self.conn)?;
            if let Some(email) = office_users.first() {
                return Err(refuse(format!(
                    "{} hat bereits Benutzer (z. B. {email}).",
                    office.name
                )));
            }
        }
        let approvers: Vec<String> = users::table
            .inner_join(user_roles::table)
            .filter(user_roles::role.eq("bewilligung"))
            .filter(users::active.eq(true))
            .select(users::email)
            .load(self.conn)?;
        if let Some(email) = approvers.first() {
            return Err(refuse(format!(
                "Es gibt bereits Benutzer der Bewilligungsbehörde (z. B. {email}); sie erhalten \
                 die Mails zu allen eingereichten Anträgen."
            )));
        }
        for (email, ..) in USERS {
            if User::find_by_email(self.conn, email)?.is_some() {
                return Err(ServiceError::Conflict(format!(
                    "Die Demodaten werden nicht geladen: Ein Benutzer mit der E-Mail-Adresse \
                     „{email}“ existiert bereits."
                )));
            }
        }
        for spec in COESFELD_PARTNERS.iter().chain(&BIELEFELD_PARTNERS) {
            if let Some(existing) = Organisation::find_by_key(self.conn, spec.key)? {
                return Err(ServiceError::Conflict(format!(
                    "Die Demodaten werden nicht geladen: Die Organisation „{}“ ({}) gibt es \
                     bereits, etwa weil Daten außerhalb der Demo sie beim Entfernen früherer \
                     Demodaten noch verwendeten.",
                    existing.name, spec.key
                )));
            }
        }
        Ok(())
    }

    pub(super) fn organisation(&mut self, key: &str) -> Result<Organisation, ServiceError> {
        Organisation::find_by_key(self.conn, key)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "Die Organisation „{key}“ fehlt; ist die Datenbank vollständig migriert?"
            ))
        })
    }

    pub(super) fn set_office_addresses(
        &mut self,
        at: NaiveDateTime,
    ) -> Result<Vec<String>, ServiceError> {
        let mut names = Vec::new();
        for (key, mailbox, head) in OFFICES {
            registry::replace_addresses(
                self.conn,
                key,
                ReplaceAddresses {
                    mailbox: Some(Some(mailbox.to_string())),
                    contacts: Some(Vec::new()),
                    head: Some(Some(head.to_string())),
                },
                None,
                at,
            )?;
            let office = self.organisation(key)?;
            self.mark("office", office.id.0)?;
            names.push(display_name(&office));
        }
        Ok(names)
    }

    pub(super) fn register_partners(
        &mut self,
        at: NaiveDateTime,
    ) -> Result<Vec<String>, ServiceError> {
        let mut names = Vec::new();
        for spec in COESFELD_PARTNERS.iter().chain(&BIELEFELD_PARTNERS) {
            let view = registry::register(
                self.conn,
                RegisterOrganisation {
                    key: Some(spec.key.to_string()),
                    name: Some(spec.name.to_string()),
                    kind: Some(spec.kind.to_string()),
                    parent: spec.parent.map(str::to_string),
                    mailbox: Some(spec.mailbox.to_string()),
                    contacts: Some(
                        spec.contact
                            .iter()
                            .map(|(email, name)| ContactInput {
                                email: Some(email.to_string()),
                                name: Some(name.to_string()),
                            })
                            .collect(),
                    ),
                },
                None,
                at,
            )?;
            let organisation = self.organisation(spec.key)?;
            self.mark("organisation", organisation.id.0)?;
            names.push(view.name);
        }
        Ok(names)
    }

    pub(super) fn create_users(
        &mut self,
        hashes: &[String],
    ) -> Result<Vec<DemoUser>, ServiceError> {
        let mut created = Vec::new();
        for ((email, name, org, role), hash) in USERS.iter().zip(hashes) {
            let organisation = self.organisation(org)?;
            let mut new_user = NewUser::new(organisation.id, email, name);
            new_user.password_hash = Some(hash.clone());
            let user = new_user.create(self.conn, &[*role])?;
            self.mark("user", user.id.0)?;
            created.push(DemoUser {
                email: user.email,
                name: user.display_name,
                role: *role,
                organisation: display_name(&organisation),
                note: None,
            });
        }
        Ok(created)
    }

    // --- Playing back ------------------------------------------------------------------------
}
