//! Who may do what: every permission decision of the server goes through [`authorize`].
//!
//! Roles add up: a principal may do something when any of its roles allows it.
//!
//! | role | workflows | cases |
//! |---|---|---|
//! | `admin` | everything | everything, every organisation |
//! | `koordination` | list, read | everything on cases of the own organisation |
//! | `bewilligung` | list, read | read, documents, journal, actions, data, uploads and Vermerke on *submitted* cases of every organisation (it records its decision, its date and the Bescheid in the case) |
//! | `lesen` | list, read | read, documents, journal within the own organisation |
//!
//! Only `admin` deploys workflows, manages the mail outbox and the users, registers partner
//! organisations and their addresses, corrects where a case stands, and deletes cases whose
//! retention period has run out; every role may list the organisations (to pick whom to consult).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::principal::Principal;
use crate::db::models::{OrganisationId, Role};
use crate::web::problem::Problem;

/// Something a principal may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See which workflows exist.
    ListWorkflows,
    /// Read a workflow definition.
    ReadWorkflow,
    /// Deploy a new workflow version.
    DeployWorkflow,
    /// Start a case for an organisation.
    CreateCase,
    /// See a case and its state.
    ReadCase,
    /// Change a case's form data.
    ChangeCaseData,
    /// Complete a task or take a decision in a case.
    TakeAction,
    /// Attach a document to a case.
    UploadDocument,
    /// Write an Aktenvermerk into a case's journal, or set and close a Wiedervorlage on it.
    AddNote,
    /// Download a case's documents.
    ReadDocument,
    /// Read a case's journal.
    ReadJournal,
    /// Withdraw a case (the applicant's Rücknahme).
    WithdrawCase,
    /// Move a case to another task of its workflow, ended ones included (Korrektur des
    /// Bearbeitungsstands): it bypasses the workflow's rules, so administrators only.
    RelocateCase,
    /// See the mail outbox and retry failed mails (operations, not case work).
    ManageOutbox,
    /// See the periodic jobs, their schedules and recent runs (operations, not case work).
    ViewJobs,
    /// See the organisations and their addresses (pickers for the bodies to consult).
    ListOrganisations,
    /// Register partner organisations and maintain the addresses consultations are mailed to.
    ManageOrganisations,
    /// Create users, change their roles, deactivate and reactivate them (web interface).
    ManageUsers,
    /// See which cases' retention periods have run out and delete them after the archive's
    /// decision (Aussonderung); irreversible, so administrators only.
    DisposeCases,
}

impl Permission {
    /// Every permission, for exhaustive checks.
    pub const ALL: [Permission; 19] = [
        Permission::ListWorkflows,
        Permission::ReadWorkflow,
        Permission::DeployWorkflow,
        Permission::CreateCase,
        Permission::ReadCase,
        Permission::ChangeCaseData,
        Permission::TakeAction,
        Permission::UploadDocument,
        Permission::AddNote,
        Permission::ReadDocument,
        Permission::ReadJournal,
        Permission::WithdrawCase,
        Permission::RelocateCase,
        Permission::ManageOutbox,
        Permission::ViewJobs,
        Permission::ListOrganisations,
        Permission::ManageOrganisations,
        Permission::ManageUsers,
        Permission::DisposeCases,
    ];

    /// Permissions about one case, which therefore need a [`CaseScope`].
    pub fn concerns_a_case(self) -> bool {
        !matches!(
            self,
            Permission::ListWorkflows
                | Permission::ReadWorkflow
                | Permission::DeployWorkflow
                | Permission::ManageOutbox
                | Permission::ViewJobs
                | Permission::ListOrganisations
                | Permission::ManageOrganisations
                | Permission::ManageUsers
                | Permission::DisposeCases
        )
    }

    /// Permissions that only look at a case.
    fn is_case_read(self) -> bool {
        matches!(
            self,
            Permission::ReadCase | Permission::ReadDocument | Permission::ReadJournal
        )
    }

    /// The denial message's wording (German zu-infinitive, for the problem detail).
    fn describe(self) -> &'static str {
        match self {
            Permission::ListWorkflows => "Workflows aufzulisten",
            Permission::ReadWorkflow => "Workflows zu lesen",
            Permission::DeployWorkflow => "Workflows bereitzustellen",
            Permission::CreateCase => "Vorgänge für diese Organisation anzulegen",
            Permission::ReadCase => "diesen Vorgang zu lesen",
            Permission::ChangeCaseData => "die Daten dieses Vorgangs zu ändern",
            Permission::TakeAction => "in diesem Vorgang Aktionen auszuführen",
            Permission::UploadDocument => "Dokumente zu diesem Vorgang hochzuladen",
            Permission::AddNote => "zu diesem Vorgang Vermerke oder Wiedervorlagen zu schreiben",
            Permission::ReadDocument => "die Dokumente dieses Vorgangs zu lesen",
            Permission::ReadJournal => "das Protokoll dieses Vorgangs zu lesen",
            Permission::WithdrawCase => "diesen Vorgang zurückzunehmen",
            Permission::RelocateCase => "den Bearbeitungsstand dieses Vorgangs zu korrigieren",
            Permission::ManageOutbox => "den Postausgang zu verwalten",
            Permission::ViewJobs => "die regelmäßigen Aufgaben einzusehen",
            Permission::ListOrganisations => "Organisationen aufzulisten",
            Permission::ManageOrganisations => "Organisationen und ihre Adressen zu verwalten",
            Permission::ManageUsers => "Benutzer zu verwalten",
            Permission::DisposeCases => "Vorgänge auszusondern",
        }
    }
}

/// What about a case matters for permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseScope {
    /// The applicant organisation (for `CreateCase`: the one the case would be created for).
    pub applicant: OrganisationId,
    /// Whether the case has reached the approving authority (`cases.submitted_at IS NOT NULL`).
    pub submitted: bool,
}

/// A refused permission. Maps to 403, or – see [`Denied::hides_existence`] – to 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    permission: Permission,
    hides_existence: bool,
    message: String,
}

impl Denied {
    /// The permission that was refused.
    pub fn permission(&self) -> Permission {
        self.permission
    }

    /// The German explanation for the problem detail.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the principal may not even see the case (a read of a foreign case, or anything
    /// on a case it cannot read): answering 403 would reveal that the case exists, so handlers
    /// should answer 404 as for a case that does not exist.
    pub fn hides_existence(&self) -> bool {
        self.hides_existence
    }

    /// The response a handler should give: 404 not-found when the case must stay hidden, else
    /// 403 forbidden.
    pub fn to_problem(&self) -> Problem {
        if self.hides_existence {
            Problem::not_found()
        } else {
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Keine Berechtigung")
                .with_detail(self.message.clone())
        }
    }
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Denied {}

impl ResponseError for Denied {
    fn status_code(&self) -> StatusCode {
        self.to_problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.to_problem().error_response()
    }
}

/// Whether one role allows `permission` on `case` for a principal of `organisation`.
fn role_allows(
    role: Role,
    organisation: OrganisationId,
    permission: Permission,
    case: Option<&CaseScope>,
) -> bool {
    use Permission::*;
    let own = case.is_some_and(|c| c.applicant == organisation);
    let submitted = case.is_some_and(|c| c.submitted);
    match role {
        Role::Admin => true,
        Role::Koordination => match permission {
            ListWorkflows | ReadWorkflow | ListOrganisations => true,
            DeployWorkflow | ManageOutbox | ViewJobs | ManageOrganisations | ManageUsers
            | DisposeCases | RelocateCase => false,
            CreateCase | ReadCase | ChangeCaseData | TakeAction | UploadDocument | AddNote
            | ReadDocument | ReadJournal | WithdrawCase => own,
        },
        Role::Bewilligung => match permission {
            ListWorkflows | ReadWorkflow | ListOrganisations => true,
            // The authority records its decision in the case: date, Bescheid (a document),
            // reasons. Every change is journaled with the actor.
            ReadCase | ReadDocument | ReadJournal | TakeAction | ChangeCaseData
            | UploadDocument | AddNote => submitted,
            DeployWorkflow | CreateCase | WithdrawCase | ManageOutbox | ViewJobs
            | ManageOrganisations | ManageUsers | DisposeCases | RelocateCase => false,
        },
        Role::Lesen => match permission {
            ListWorkflows | ReadWorkflow | ListOrganisations => true,
            ReadCase | ReadDocument | ReadJournal => own,
            DeployWorkflow | CreateCase | ChangeCaseData | TakeAction | UploadDocument
            | AddNote | WithdrawCase | ManageOutbox | ViewJobs | ManageOrganisations
            | ManageUsers | DisposeCases | RelocateCase => false,
        },
    }
}

fn allows(principal: &Principal, permission: Permission, case: Option<&CaseScope>) -> bool {
    if permission.concerns_a_case() && case.is_none() {
        // Fail closed: a case permission asked without its case is a programming error.
        return false;
    }
    principal
        .roles
        .iter()
        .any(|&role| role_allows(role, principal.organisation_id, permission, case))
}

/// The one permission decision: may `principal` do `permission` (on `case`, for case permissions)?
///
/// Case permissions without a case are refused. A refusal says whether the case must stay hidden
/// ([`Denied::hides_existence`]).
pub fn authorize(
    principal: &Principal,
    permission: Permission,
    case: Option<&CaseScope>,
) -> Result<(), Denied> {
    if allows(principal, permission, case) {
        return Ok(());
    }
    let hides_existence = match case {
        Some(case) if permission.concerns_a_case() && permission != Permission::CreateCase => {
            permission.is_case_read() || !allows(principal, Permission::ReadCase, Some(case))
        }
        _ => false,
    };
    Err(Denied {
        permission,
        hides_existence,
        message: format!("Sie haben keine Berechtigung, {}.", permission.describe()),
    })
}

/// The workflow roles the engine should see for this principal: steps are assigned to
/// `koordination`, `bewilligung` or `lesen`; an admin may act in each of them.
pub fn workflow_roles(principal: &Principal) -> Vec<String> {
    let mut roles: Vec<Role> = if principal.roles.contains(&Role::Admin) {
        vec![Role::Koordination, Role::Bewilligung, Role::Lesen]
    } else {
        principal.roles.clone()
    };
    roles.sort();
    roles.dedup();
    roles
        .into_iter()
        .map(|role| role.as_str().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::UserId;
    use Permission::*;

    const OWN: OrganisationId = OrganisationId(10);
    const FOREIGN: OrganisationId = OrganisationId(20);

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            user_id: UserId(1),
            email: "p@example.org".into(),
            organisation_id: OWN,
            roles: roles.to_vec(),
        }
    }

    /// The four situations of a case, in the column order of [`EXPECTED`].
    const CASES: [CaseScope; 4] = [
        CaseScope {
            applicant: OWN,
            submitted: false,
        },
        CaseScope {
            applicant: OWN,
            submitted: true,
        },
        CaseScope {
            applicant: FOREIGN,
            submitted: false,
        },
        CaseScope {
            applicant: FOREIGN,
            submitted: true,
        },
    ];

    /// The matrix as specified, written out. Each string has one character per case situation:
    /// own/not submitted, own/submitted, foreign/not submitted, foreign/submitted.
    /// `Y` allowed; `-` refused with 403; `h` refused and hidden (answer 404).
    #[rustfmt::skip]
    const EXPECTED: [(Permission, [&str; 4]); 19] = [
        //                  admin   koordination bewilligung lesen
        (ListWorkflows,  ["YYYY", "YYYY",      "YYYY",     "YYYY"]),
        (ReadWorkflow,   ["YYYY", "YYYY",      "YYYY",     "YYYY"]),
        (DeployWorkflow, ["YYYY", "----",      "----",     "----"]),
        (CreateCase,     ["YYYY", "YY--",      "----",     "----"]),
        (ReadCase,       ["YYYY", "YYhh",      "hYhY",     "YYhh"]),
        (ChangeCaseData, ["YYYY", "YYhh",      "hYhY",     "--hh"]),
        (TakeAction,     ["YYYY", "YYhh",      "hYhY",     "--hh"]),
        (UploadDocument, ["YYYY", "YYhh",      "hYhY",     "--hh"]),
        (AddNote,        ["YYYY", "YYhh",      "hYhY",     "--hh"]),
        (ReadDocument,   ["YYYY", "YYhh",      "hYhY",     "YYhh"]),
        (ReadJournal,    ["YYYY", "YYhh",      "hYhY",     "YYhh"]),
        (WithdrawCase,   ["YYYY", "YYhh",      "h-h-",     "--hh"]),
        (RelocateCase,   ["YYYY", "--hh",      "h-h-",     "--hh"]),
        (ManageOutbox,   ["YYYY", "----",      "----",     "----"]),
        (ViewJobs,       ["YYYY", "----",      "----",     "----"]),
        (ListOrganisations,   ["YYYY", "YYYY", "YYYY", "YYYY"]),
        (ManageOrganisations, ["YYYY", "----", "----", "----"]),
        (ManageUsers,         ["YYYY", "----", "----", "----"]),
        (DisposeCases,        ["YYYY", "----", "----", "----"]),
    ];

    const ROLES: [Role; 4] = [
        Role::Admin,
        Role::Koordination,
        Role::Bewilligung,
        Role::Lesen,
    ];

    fn outcome(principal: &Principal, permission: Permission, case: &CaseScope) -> char {
        match authorize(principal, permission, Some(case)) {
            Ok(()) => 'Y',
            Err(denied) if denied.hides_existence() => 'h',
            Err(_) => '-',
        }
    }

    #[test]
    fn the_whole_matrix() {
        assert_eq!(EXPECTED.len(), Permission::ALL.len());
        let mut mismatches = Vec::new();
        for (permission, per_role) in EXPECTED {
            for (role, expected) in ROLES.iter().zip(per_role) {
                let principal = principal(&[*role]);
                let actual: String = CASES
                    .iter()
                    .map(|case| outcome(&principal, permission, case))
                    .collect();
                if actual != expected {
                    mismatches.push(format!(
                        "{role:?} {permission:?}: expected {expected}, got {actual}"
                    ));
                }
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    #[test]
    fn workflow_permissions_need_no_case_and_case_permissions_need_one() {
        for role in ROLES {
            let principal = principal(&[role]);
            assert!(authorize(&principal, ListWorkflows, None).is_ok());
            assert!(authorize(&principal, ReadWorkflow, None).is_ok());
            assert_eq!(
                authorize(&principal, DeployWorkflow, None).is_ok(),
                role == Role::Admin
            );
            assert_eq!(
                authorize(&principal, ManageOutbox, None).is_ok(),
                role == Role::Admin
            );
            assert_eq!(
                authorize(&principal, ViewJobs, None).is_ok(),
                role == Role::Admin
            );
            assert!(authorize(&principal, ListOrganisations, None).is_ok());
            assert_eq!(
                authorize(&principal, ManageOrganisations, None).is_ok(),
                role == Role::Admin
            );
            for permission in Permission::ALL.into_iter().filter(|p| p.concerns_a_case()) {
                let denied = authorize(&principal, permission, None).unwrap_err();
                assert!(!denied.hides_existence());
            }
        }
    }

    #[test]
    fn no_roles_no_rights_and_roles_add_up() {
        let nobody = principal(&[]);
        for permission in Permission::ALL {
            for case in &CASES {
                assert!(authorize(&nobody, permission, Some(case)).is_err());
            }
        }
        let both = principal(&[Role::Lesen, Role::Bewilligung]);
        let foreign_submitted = CASES[3];
        assert!(authorize(&both, TakeAction, Some(&foreign_submitted)).is_ok());
        assert!(authorize(&both, ReadCase, Some(&CASES[0])).is_ok());
        // Lesen sees the own case, so a refused action on it is 403, not hidden.
        let denied = authorize(&both, ChangeCaseData, Some(&CASES[0])).unwrap_err();
        assert!(!denied.hides_existence());
    }

    #[test]
    fn denials_are_german_and_map_to_403_or_404() {
        let lesen = principal(&[Role::Lesen]);
        let denied = authorize(&lesen, TakeAction, Some(&CASES[0])).unwrap_err();
        assert_eq!(denied.permission(), TakeAction);
        assert_eq!(
            denied.message(),
            "Sie haben keine Berechtigung, in diesem Vorgang Aktionen auszuführen."
        );
        assert_eq!(denied.error_response().status(), StatusCode::FORBIDDEN);
        let hidden = authorize(&lesen, ReadCase, Some(&CASES[2])).unwrap_err();
        assert_eq!(hidden.error_response().status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn workflow_roles_expand_admin() {
        assert_eq!(
            workflow_roles(&principal(&[Role::Admin])),
            ["koordination", "bewilligung", "lesen"]
        );
        assert_eq!(
            workflow_roles(&principal(&[Role::Lesen, Role::Admin])),
            ["koordination", "bewilligung", "lesen"]
        );
        assert_eq!(
            workflow_roles(&principal(&[Role::Lesen, Role::Koordination])),
            ["koordination", "lesen"]
        );
        assert!(workflow_roles(&principal(&[])).is_empty());
    }
}
