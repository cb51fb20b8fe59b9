//! Mounts, auth roles, identity groups and entities: who holds which policies.
//! Owned by the inventory work.
