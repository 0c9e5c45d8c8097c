//! The Genie spaces a fresh emulator starts with.
//!
//! `Test` (owner `demo.user@example.com`, warehouse `5a1f0c0ffee00001`):
//! - [`TAXI_SPACE`] "NYC Taxi Trips" over `main.default.trips`, with curated questions "What is the
//!   average fare by payment type?" and "How many shared trips were there?"; every user may ask.
//! - [`EXEC_SPACE`] "Executive Metrics" over `main.default.trips` and `main.default.revenue_daily`
//!   (a table since dropped, so questions about revenue fail); only its owner sees it.
//!
//! `Demo` adds "TPC-H Sales" over `samples.tpch.customer`, `orders` and `nation`.

use super::{GENIE_SPACE, Genie, Space, genie_id};
use crate::{
    acl::{Acls, Grantee},
    config::Seed,
};

/// The space every user may ask in.
pub(crate) const TAXI_SPACE: &str = "01f0a1b2c3d4e5f60718293a4b5c6d01";
/// The owner's private space.
pub(crate) const EXEC_SPACE: &str = "01f0a1b2c3d4e5f60718293a4b5c6d02";

const OWNER: &str = "demo.user@example.com";
const WAREHOUSE: &str = "5a1f0c0ffee00001";

fn add(genie: &mut Genie, id: &str, title: &str, description: &str, tables: &[&str], examples: &[(&str, &str)]) {
    genie.spaces.insert(
        id.into(),
        Space {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            warehouse_id: WAREHOUSE.into(),
            tables: tables.iter().map(|t| (*t).to_owned()).collect(),
            examples: examples.iter().map(|(q, s)| ((*q).to_owned(), (*s).to_owned())).collect(),
            creator: OWNER.into(),
        },
    );
}

pub(crate) fn populate(genie: &mut Genie, acls: &mut Acls, seed: Seed) {
    if seed == Seed::Empty {
        return;
    }
    add(
        genie,
        TAXI_SPACE,
        "NYC Taxi Trips",
        "Ask about taxi trips: fares, distances, payment types, shared rides.",
        &["main.default.trips"],
        &[
            (
                "What is the average fare by payment type?",
                "SELECT payment_type, ROUND(AVG(fare_amount), 2) AS avg_fare FROM main.default.trips GROUP BY payment_type ORDER BY payment_type",
            ),
            (
                "How many shared trips were there?",
                "SELECT COUNT(*) AS shared_trips FROM main.default.trips WHERE is_shared",
            ),
        ],
    );
    acls.grant(&GENIE_SPACE, TAXI_SPACE, Grantee::Group("users".into()), "CAN_RUN");
    add(
        genie,
        EXEC_SPACE,
        "Executive Metrics",
        "Revenue and ride volume for the leadership team.",
        &["main.default.trips", "main.default.revenue_daily"],
        &[],
    );
    if seed == Seed::Demo {
        let id = genie_id("space:tpch");
        add(
            genie,
            &id,
            "TPC-H Sales",
            "Customers, orders and nations of the TPC-H sample.",
            &["samples.tpch.customer", "samples.tpch.orders", "samples.tpch.nation"],
            &[(
                "How many customers are there per nation?",
                "SELECT n.n_name AS nation, COUNT(*) AS customers FROM samples.tpch.customer c JOIN samples.tpch.nation n ON c.c_nationkey = n.n_nationkey GROUP BY n.n_name ORDER BY customers DESC",
            )],
        );
        acls.grant(&GENIE_SPACE, &id, Grantee::Group("users".into()), "CAN_RUN");
    }
}
