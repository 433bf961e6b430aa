//! Table definitions shared by both backends; kept in step with `migrations/sqlite` and
//! `migrations/postgres` (the migration tests compare both against this file's columns).

diesel::table! {
    /// Applicants, authorities and partner bodies.
    organisations (id) {
        id -> BigInt,
        key -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        regierungsbezirk -> Nullable<Text>,
        mailbox -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// The head of the office (Leitung): receives escalations.
        head_email -> Nullable<Text>,
    }
}

diesel::table! {
    /// Staff accounts; partner bodies never have one.
    users (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        email -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Set for the first-run administrator: the web interface insists on a new password.
        must_change_password -> Bool,
        /// Raised when every staff token of the user must stop working (see `auth::token`).
        token_generation -> Integer,
    }
}

diesel::table! {
    /// The roles a user holds; permissions are decided from these.
    user_roles (user_id, role) {
        user_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    /// Every version of every workflow ever deployed; cases point at the version they run on.
    workflow_definitions (id) {
        id -> BigInt,
        key -> Text,
        version -> Integer,
        hash -> Text,
        title -> Text,
        source -> Text,
        definition -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Cases (Vorgänge) with the engine state as JSON and an optimistic-concurrency version.
    cases (id) {
        id -> BigInt,
        aktenzeichen -> Text,
        definition_id -> BigInt,
        workflow_key -> Text,
        applicant_id -> BigInt,
        status -> Text,
        outcome -> Nullable<Text>,
        state -> Text,
        version -> BigInt,
        /// First time a token reached a step of the `bewilligung` role (visible to that role from then on).
        submitted_at -> Nullable<Timestamp>,
        /// Active steps as `,a,b,` so lists can filter by step without parsing the state.
        current_steps -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Entries the case's journal has recorded (its newest `seq`); see `journal::verify`.
        journal_seq -> Integer,
        /// Position of the earliest active step in the workflow, for sorting by „Stand“.
        stand_rank -> Nullable<Integer>,
        /// Earliest deadline of the active steps (far future when none), for sorting by it.
        next_deadline -> Nullable<Date>,
    }
}

diesel::table! {
    /// The case (and its step) that started a case, for cases started by a `start_case` effect.
    case_origins (case_id) {
        case_id -> BigInt,
        origin_case_id -> BigInt,
        /// The origin's step whose effect started the case.
        step -> Text,
    }
}

diesel::table! {
    /// Running numbers of Aktenzeichen per prefix, applicant and year.
    aktenzeichen_counters (prefix, applicant_key, year) {
        prefix -> Text,
        applicant_key -> Text,
        year -> Integer,
        last_number -> Integer,
    }
}

diesel::table! {
    /// The append-only journal; each row hashes its predecessor (per case).
    case_events (id) {
        id -> BigInt,
        case_id -> BigInt,
        seq -> Integer,
        at -> Timestamp,
        actor -> Text,
        kind -> Text,
        payload -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    /// Durable timers of the engine, claimed by the scheduler with leases.
    timers (id) {
        id -> BigInt,
        case_id -> BigInt,
        local_id -> BigInt,
        step -> Text,
        due -> Date,
        status -> Text,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        /// `flow` (poller) or `reminder` (the `reminders` job).
        kind -> Text,
        /// The last day of the legal deadline the timer is about.
        deadline -> Nullable<Date>,
        deadline_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Mails waiting to be sent, sent, or failed: written in the same transaction as the change.
    outbox (id) {
        id -> BigInt,
        message_id -> Text,
        case_id -> Nullable<BigInt>,
        template -> Text,
        recipients -> Text,
        context -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        invitation_id -> Nullable<BigInt>,
        subject -> Text,
        rendered -> Text,
    }
}

diesel::table! {
    /// Uploaded documents; the content lives content-addressed under the data directory.
    documents (id) {
        id -> BigInt,
        case_id -> BigInt,
        sha256 -> Text,
        size -> BigInt,
        content_type -> Text,
        filename -> Text,
        uploaded_by -> Text,
        partner_visible -> Bool,
        created_at -> Timestamp,
        /// The organisation the document is internal to; NULL for everyone who reads the case.
        internal_to -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Further addresses of an organisation besides its functional mailbox.
    organisation_contacts (organisation_id, email) {
        organisation_id -> BigInt,
        email -> Text,
        name -> Text,
    }
}

diesel::table! {
    /// One participant's invitation to one consultation; mirrors the engine state for queries.
    invitations (id) {
        id -> BigInt,
        case_id -> BigInt,
        local_id -> BigInt,
        step -> Text,
        organisation_id -> BigInt,
        deadline -> Date,
        deadline_reason -> Nullable<Text>,
        status -> Text,
        invited_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        votum -> Nullable<Text>,
        late -> Bool,
        versions -> Integer,
        reminders_sent -> Integer,
        closed_at -> Nullable<Timestamp>,
        received_on -> Nullable<Date>,
    }
}

diesel::table! {
    /// A partner's pending notice that it is not the competent body (one per invitation).
    responsibility_notices (invitation_id) {
        invitation_id -> BigInt,
        reason -> Text,
        competent -> Nullable<Text>,
        reported_by -> Text,
        reported_at -> Timestamp,
    }
}

diesel::table! {
    /// A staff member's absence with the colleague standing in (one per user).
    absences (user_id) {
        user_id -> BigInt,
        until -> Date,
        deputy_id -> BigInt,
        set_at -> Timestamp,
    }
}

diesel::table! {
    /// A partner's pending request for a later deadline (one per invitation).
    extension_requests (invitation_id) {
        invitation_id -> BigInt,
        requested_until -> Date,
        reason -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    /// Issued personal answer links, by token id, so a link can be revoked.
    partner_links (jti) {
        jti -> Text,
        invitation_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Every version of every Stellungnahme.
    answers (id) {
        id -> BigInt,
        invitation_id -> BigInt,
        version -> Integer,
        votum -> Text,
        text -> Text,
        answered_by -> Text,
        document_id -> Nullable<BigInt>,
        late -> Bool,
        created_at -> Timestamp,
        received_on -> Nullable<Date>,
    }
}

diesel::table! {
    /// Personal calendar feed tokens (only their SHA-256 is stored).
    calendar_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Wiedervorlagen: a user's request to see a case again on `due`, with the reason.
    follow_ups (id) {
        id -> BigInt,
        case_id -> BigInt,
        user_id -> BigInt,
        due -> Date,
        reason -> Text,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        /// When the `reminders` job mailed it to its user (once).
        notified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Zuständigkeit: the user of `organisation_id` who works on the case.
    case_assignments (case_id, organisation_id) {
        case_id -> BigInt,
        organisation_id -> BigInt,
        user_id -> BigInt,
        assigned_at -> Timestamp,
        /// E-mail of whoever arranged it.
        assigned_by -> Text,
    }
}

diesel::table! {
    /// A period of a time window (`windows` in a workflow): the action bound to it is taken
    /// only from `opens_on` to `closes_on`, both days included.
    time_windows (id) {
        id -> BigInt,
        /// The window's name, as workflows declare it (`kfi_antrag`).
        name -> Text,
        /// German label of the period („Förderjahr 2027“).
        label -> Text,
        opens_on -> Date,
        closes_on -> Date,
        created_at -> Timestamp,
        /// E-mail of the administrator who entered it.
        created_by -> Text,
    }
}

diesel::table! {
    /// The office of `case_id` was reminded that period `period_id` ends soon.
    window_reminders (period_id, case_id) {
        period_id -> BigInt,
        case_id -> BigInt,
        sent_at -> Timestamp,
    }
}

diesel::joinable!(window_reminders -> time_windows (period_id));
diesel::joinable!(window_reminders -> cases (case_id));
diesel::joinable!(follow_ups -> cases (case_id));
diesel::joinable!(case_assignments -> cases (case_id));
diesel::joinable!(case_assignments -> users (user_id));
diesel::joinable!(follow_ups -> users (user_id));
diesel::joinable!(calendar_tokens -> users (user_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(cases -> workflow_definitions (definition_id));
diesel::joinable!(cases -> organisations (applicant_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(timers -> cases (case_id));
diesel::joinable!(outbox -> cases (case_id));
diesel::joinable!(documents -> cases (case_id));
diesel::joinable!(organisation_contacts -> organisations (organisation_id));
diesel::joinable!(invitations -> cases (case_id));
diesel::joinable!(invitations -> organisations (organisation_id));
diesel::joinable!(partner_links -> invitations (invitation_id));
diesel::joinable!(answers -> invitations (invitation_id));
diesel::joinable!(extension_requests -> invitations (invitation_id));
diesel::joinable!(responsibility_notices -> invitations (invitation_id));
diesel::table! {
    /// Runs of the periodic jobs; `UNIQUE (job, scheduled_for)` is the run lock.
    job_runs (id) {
        id -> BigInt,
        job -> Text,
        scheduled_for -> Timestamp,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Text,
        counts -> Text,
        error -> Nullable<Text>,
        owner -> Text,
    }
}

diesel::table! {
    /// Browser sessions of the staff web interface; the cookie's id is stored only as a hash.
    ui_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        csrf_secret -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        browser -> Nullable<Text>,
        through_proxy -> Bool,
    }
}

diesel::joinable!(ui_sessions -> users (user_id));

diesel::table! {
    /// Failed-login and reset-link limits: one GCRA state per scope and key (`auth::limiter`).
    attempt_limits (scope, subject) {
        /// Which limit: `login` or `reset-link`.
        scope -> Text,
        /// What is counted: `account:<e-mail>` or `address:<client address>`.
        subject -> Text,
        /// Theoretical arrival time, milliseconds since the Unix epoch.
        tat_ms -> BigInt,
    }
}

diesel::table! {
    /// What `vorgang demo` created (`case`, `user`, `organisation`) or changed (`office`: a
    /// seeded Kreis or Stadt whose addresses it set); `vorgang demo --remove` deletes by it.
    demo_records (kind, record_id) {
        kind -> Text,
        record_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// What remains of a case deleted after its retention period (Aussonderung); `id` is the
    /// case's former id.
    disposed_cases (id) {
        id -> BigInt,
        aktenzeichen -> Text,
        workflow_key -> Text,
        applicant_id -> BigInt,
        /// `completed` or `withdrawn`, as the case ended.
        status -> Text,
        created_at -> Timestamp,
        ended_at -> Timestamp,
        /// Last day of the retention period.
        retention_until -> Date,
        /// `archived` (taken over by the archive) or `declined` (not worth archiving).
        decision -> Text,
        /// The archive's reference or letter, as entered.
        reference -> Text,
        /// Sequence number and hash of the journal's newest entry when it was deleted.
        journal_seq -> Integer,
        journal_head -> Text,
        /// Documents deleted with the case.
        documents -> Integer,
        disposed_by -> Text,
        disposed_at -> Timestamp,
    }
}

diesel::table! {
    /// Administrative changes outside cases (users, roles, organisations, Aussonderung): who,
    /// when, what; append-only.
    admin_events (id) {
        id -> BigInt,
        at -> Timestamp,
        /// E-mail address of the administrator.
        actor -> Text,
        kind -> Text,
        /// What was changed: a user's e-mail address, an organisation's key, an Aktenzeichen.
        subject -> Text,
        /// JSON object with the particulars of the kind.
        details -> Text,
        /// Position in the record's hash chain, from 1 without gaps; 0 until chained.
        seq -> BigInt,
        /// Hash of the entry before (64 zeros for the first).
        prev_hash -> Text,
        /// SHA-256 of this entry (see `service::admin_chain`).
        hash -> Text,
    }
}

diesel::table! {
    /// The newest entry of the administration's record (one row): its end, and the lock every
    /// append takes.
    admin_chain (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
        /// Entries written before the chain existed still wait to be chained (once).
        legacy_pending -> Bool,
    }
}

diesel::joinable!(answers -> documents (document_id));
diesel::joinable!(outbox -> invitations (invitation_id));
diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    organisation_contacts,
    invitations,
    partner_links,
    absences,
    extension_requests,
    responsibility_notices,
    answers,
    users,
    user_roles,
    workflow_definitions,
    cases,
    case_origins,
    aktenzeichen_counters,
    case_events,
    timers,
    outbox,
    documents,
    job_runs,
    calendar_tokens,
    follow_ups,
    case_assignments,
    ui_sessions,
    attempt_limits,
    demo_records,
    disposed_cases,
    admin_events,
    admin_chain,
    time_windows,
    window_reminders,
);
