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
    }
}

diesel::table! {
    /// The roles a user holds; permissions are decided from these.
    user_roles (user_id, role) {
        user_id -> BigInt,
        role -> Text,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(organisations, users, user_roles);
