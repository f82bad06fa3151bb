// The tables, identical on SQLite and PostgreSQL (see migrations/<backend>/).

diesel::table! {
    areas (code) {
        code -> Text,
        name -> Text,
        pref_code -> Text,
        prefecture -> Text,
        population -> Nullable<BigInt>,
        geometry -> Nullable<Text>,
    }
}

diesel::table! {
    municipalities (code) {
        code -> Text,
        name -> Text,
        pref_code -> Text,
        area_code -> Text,
        geometry -> Nullable<Text>,
    }
}

diesel::table! {
    towns (muni_code, town, koaza) {
        muni_code -> Text,
        town -> Text,
        koaza -> Text,
        lat -> Double,
        lng -> Double,
    }
}

diesel::table! {
    census_areas (key_code) {
        key_code -> Text,
        muni_code -> Text,
        name -> Text,
        population -> BigInt,
        households -> BigInt,
        lat -> Double,
        lng -> Double,
    }
}

diesel::table! {
    facilities (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        name_kana -> Nullable<Text>,
        navii -> Nullable<Text>,
        hic -> Nullable<Text>,
        kaigo -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        prefecture -> Text,
        municipality_code -> Nullable<Text>,
        municipality -> Nullable<Text>,
        address -> Text,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        placement -> Text,
        area_code -> Nullable<Text>,
        hours -> Nullable<Text>,
        url -> Nullable<Text>,
        notes -> Nullable<Text>,
        origin -> Text,
        source -> Text,
        snapshot -> Nullable<Text>,
        updated_at -> Text,
        verified_at -> Nullable<Text>,
        verified_by -> Nullable<Text>,
        version -> BigInt,
        status -> Text,
        after_hours -> Nullable<Text>,
        specialists -> Nullable<Text>,
        consultations -> Nullable<Text>,
        gathering -> Nullable<Text>,
    }
}

diesel::table! {
    contacts (facility_id, position) {
        facility_id -> Text,
        position -> Integer,
        kind -> Text,
        value -> Text,
        label -> Nullable<Text>,
        visibility -> Text,
        origin -> Text,
        source -> Text,
        snapshot -> Nullable<Text>,
    }
}

diesel::table! {
    services (facility_id, kind) {
        facility_id -> Text,
        kind -> Text,
        status -> Text,
        attributes -> Text,
        origin -> Text,
        source -> Text,
        snapshot -> Nullable<Text>,
        updated_at -> Text,
        verified_at -> Nullable<Text>,
        verified_by -> Nullable<Text>,
    }
}

diesel::table! {
    capacities (facility_id, service_kind) {
        facility_id -> Text,
        service_kind -> Text,
        status -> Text,
        free_beds -> Nullable<Integer>,
        note -> Nullable<Text>,
        reported_by -> Text,
        reported_at -> Text,
        visibility -> Text,
        waiting_days -> Nullable<Integer>,
        via -> Nullable<Text>,
        sample -> Bool,
    }
}

diesel::table! {
    admission_rules (facility_id, service_kind) {
        facility_id -> Text,
        service_kind -> Text,
        rules -> Text,
        visibility -> Text,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        at -> Text,
        actor -> Text,
        entity -> Text,
        entity_id -> Text,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        areas -> Text,
        facilities -> Text,
        disabled -> Bool,
        created_at -> Text,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        csrf -> Text,
        created_at -> Text,
        last_seen_at -> Text,
        revoked -> Bool,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        name -> Text,
        created_at -> Text,
        revoked -> Bool,
    }
}

diesel::table! {
    auth_failures (id) {
        id -> BigInt,
        subject -> Text,
        at -> Text,
    }
}

diesel::table! {
    update_links (id) {
        id -> BigInt,
        token_hash -> Text,
        facility_id -> Text,
        kind -> Text,
        created_by -> Text,
        created_at -> Text,
        expires_at -> Nullable<Text>,
        used_at -> Nullable<Text>,
        revoked -> Bool,
    }
}

diesel::table! {
    proposals (id) {
        id -> BigInt,
        facility_id -> Text,
        link_id -> Nullable<BigInt>,
        changes -> Text,
        note -> Nullable<Text>,
        base_version -> BigInt,
        created_at -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Text>,
        reason -> Nullable<Text>,
        survey -> Nullable<Text>,
        survey_version -> Nullable<Integer>,
        respondent -> Nullable<Text>,
        via -> Text,
    }
}

diesel::table! {
    corrections (id) {
        id -> BigInt,
        facility_id -> Text,
        what -> Text,
        contact -> Nullable<Text>,
        created_at -> Text,
        status -> Text,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    pharmacy_groups (id) {
        id -> BigInt,
        name -> Text,
        members -> Text,
        licence_valid_until -> Text,
        transfer_hours -> Nullable<Integer>,
        note -> Nullable<Text>,
        sample -> Bool,
        updated_by -> Text,
        updated_at -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));

diesel::table! {
    meta (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        kind -> Text,
        visibility -> Text,
        status -> Text,
        organizer_facility_id -> Nullable<Text>,
        areas -> Text,
        start_date -> Text,
        body -> Text,
        version -> BigInt,
        created_by -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        label -> Nullable<Text>,
        area -> Nullable<Text>,
        audience -> Nullable<Text>,
        created_at -> Text,
        last_used_at -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    municipalities,
    towns,
    census_areas,
    facilities,
    contacts,
    services,
    capacities,
    admission_rules,
    change_log,
    meta,
    users,
    sessions,
    api_tokens,
    auth_failures,
    update_links,
    proposals,
    pharmacy_groups,
    corrections,
    events,
    calendar_feeds,
);
