//! Users: roles, unique addresses, and foreign keys enforced on both backends.

use vorgang::db::models::{NewUser, Organisation, OrganisationId, Role, User};

use crate::support::TestDatabase;

both_backends! {
    fn a_user_is_stored_with_roles_and_found_case_insensitively(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let kleve = Organisation::find_by_key(&mut conn, "05154").unwrap().unwrap();
        let created = NewUser::new(kleve.id, " Anna.Schmidt@Kreis-Kleve.de ", "Anna Schmidt")
            .create(&mut conn, &[Role::Lesen, Role::Koordination])
            .unwrap();
        assert_eq!(created.email, "anna.schmidt@kreis-kleve.de");
        assert!(created.active);
        let found = User::find_by_email(&mut conn, "ANNA.SCHMIDT@kreis-kleve.de").unwrap().unwrap();
        assert_eq!(found.id, created.id);
        assert_eq!(found.organisation_id, kleve.id);
        assert_eq!(found.roles(&mut conn).unwrap(), [Role::Koordination, Role::Lesen]);
    }
}

both_backends! {
    fn the_same_address_cannot_be_registered_twice(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let kleve = Organisation::find_by_key(&mut conn, "05154").unwrap().unwrap();
        NewUser::new(kleve.id, "a@kreis-kleve.de", "A").create(&mut conn, &[Role::Lesen]).unwrap();
        let again = NewUser::new(kleve.id, "A@Kreis-Kleve.de", "B").create(&mut conn, &[Role::Admin]);
        assert!(again.is_err());
        // The failed attempt left nothing behind: still one user, with its original role.
        let user = User::find_by_email(&mut conn, "a@kreis-kleve.de").unwrap().unwrap();
        assert_eq!(user.display_name, "A");
        assert_eq!(user.roles(&mut conn).unwrap(), [Role::Lesen]);
    }
}

both_backends! {
    fn foreign_keys_are_enforced(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let orphan = NewUser::new(OrganisationId(987_654), "x@example.org", "X")
            .create(&mut conn, &[Role::Lesen]);
        assert!(orphan.is_err(), "a user of a missing organisation must be rejected");
        assert!(User::find_by_email(&mut conn, "x@example.org").unwrap().is_none());
    }
}

#[test]
fn roles_parse_from_their_stored_names_only() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
    }
    let error = "superuser".parse::<Role>().unwrap_err();
    assert!(error.contains("superuser"), "{error}");
}
