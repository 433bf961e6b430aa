//! Who reads what one organisation keeps internal in a case it shares with another: the Kreis's
//! Vermerk on a call with its Kämmerei, its working draft of a council paper, the
//! Bezirksregierung's note on its review.
//!
//! A case is read by more than one organisation (the applicant, the Bewilligungsbehörde once it
//! is submitted); an internal Vermerk or document is for the writer's organisation only.

use super::Principal;
use crate::db::models::{OrganisationId, Role};

/// Who reads a case, as far as internal Vermerke and documents are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalReader {
    /// Reads everything: administrators, who may do everything anyway.
    All,
    /// Reads what is for everyone and what is internal to this organisation.
    Of(OrganisationId),
}

impl InternalReader {
    /// The reader `principal` is.
    pub fn of(principal: &Principal) -> Self {
        if principal.has_role(Role::Admin) {
            Self::All
        } else {
            Self::Of(principal.organisation_id)
        }
    }

    /// Whether this reader sees something internal to `owner` (`None`: for everyone).
    pub fn sees(&self, owner: Option<OrganisationId>) -> bool {
        match (self, owner) {
            (_, None) | (Self::All, Some(_)) => true,
            (Self::Of(own), Some(owner)) => *own == owner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_sees_its_own_and_the_shared_an_administrator_all() {
        let kreis = InternalReader::Of(OrganisationId(4));
        assert!(kreis.sees(None));
        assert!(kreis.sees(Some(OrganisationId(4))));
        assert!(!kreis.sees(Some(OrganisationId(9))));
        assert!(InternalReader::All.sees(Some(OrganisationId(9))));
    }
}
