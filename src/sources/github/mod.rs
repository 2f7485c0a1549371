//! GitHub as the forge (being built).
