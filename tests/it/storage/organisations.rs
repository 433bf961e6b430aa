//! The organisations every installation starts with.

use vorgang::db::models::{Organisation, OrganisationKind};

use crate::support::TestDatabase;

/// The reference list shipped with the project: AGS, name, kind, Regierungsbezirk.
fn reference_rows() -> Vec<[String; 4]> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference/nrw-gebietskoerperschaften.csv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "{line}");
            [0, 1, 2, 3].map(|i| fields[i].to_string())
        })
        .collect()
}

both_backends! {
    fn all_54_gebietskoerperschaften_are_present_after_migration(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let rows = reference_rows();
        assert_eq!(rows.len(), 54);
        for [ags, name, kind, bezirk] in rows {
            let org = Organisation::find_by_key(&mut conn, &ags)
                .unwrap()
                .unwrap_or_else(|| panic!("{ags} {name} missing"));
            assert_eq!(org.name, name);
            assert_eq!(org.kind.as_str(), kind);
            assert_eq!(org.regierungsbezirk.as_deref(), Some(bezirk.as_str()));
            assert!(org.kind.may_apply(), "{name} may apply");
        }
        let applicants = Organisation::all(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|o| o.kind.may_apply())
            .count();
        assert_eq!(applicants, 54);
    }
}

both_backends! {
    fn aachen_belongs_to_the_staedteregion(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let region = Organisation::find_by_key(&mut conn, "05334").unwrap().unwrap();
        let aachen = Organisation::find_by_key(&mut conn, "05334002").unwrap().unwrap();
        assert_eq!(region.kind, OrganisationKind::Kreis);
        assert_eq!(aachen.kind, OrganisationKind::KreisfreieStadtInStaedteregion);
        assert_eq!(aachen.parent_id, Some(region.id));
    }
}

both_backends! {
    fn bezirksregierungen_and_bewilligungsbehoerde_are_present(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let all = Organisation::all(&mut conn).unwrap();
        let mut bezirke: Vec<&str> = all
            .iter()
            .filter(|o| o.kind == OrganisationKind::Bezirksregierung)
            .filter_map(|o| o.regierungsbezirk.as_deref())
            .collect();
        bezirke.sort();
        assert_eq!(bezirke, ["Arnsberg", "Detmold", "Düsseldorf", "Köln", "Münster"]);

        let kfi = Organisation::find_by_key(&mut conn, "KFI").unwrap().unwrap();
        let arnsberg = Organisation::find_by_key(&mut conn, "BR-ARNSBERG").unwrap().unwrap();
        assert_eq!(kfi.kind, OrganisationKind::Bewilligungsbehoerde);
        assert!(kfi.name.contains("Kompetenzzentrum für Integration"));
        assert_eq!(kfi.parent_id, Some(arnsberg.id));
        assert!(!kfi.kind.may_apply());
        assert_eq!(all.len(), 54 + 5 + 1);
    }
}
