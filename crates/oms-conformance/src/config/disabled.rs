//! What a run leaves out: the rules and [`CAPABILITIES`] a profile disables,
//! each with its reason, and the capabilities the rest of the profile rules
//! out (one project, a token, no failing or retrying body, one dialect).

use std::collections::BTreeMap;

use super::bodies::CreateBodies;
use super::profile::DisabledFile;
use crate::catalogue::Catalogue;
use crate::dialect::Dialect;
use crate::project::Project;

/// Capabilities a profile may disable; scenarios name the ones they need with
/// `@needs:<capability>` tags. `aksk` (signing with each project's AK/SK) is off
/// by itself when a project authenticates with a token, `both-dialects` (one
/// task seen through v1 and v2) when the run judges one dialect.
pub const CAPABILITIES: [&str; 6] = [
    "quota",
    "failing-task",
    "retrying-task",
    "second-project",
    "aksk",
    "both-dialects",
];

/// The rules the profile disables, each with its reason; every one must be in
/// the catalogue.
pub(super) fn disabled_rules(
    disabled: &DisabledFile,
    catalogue: &Catalogue,
) -> Result<BTreeMap<String, String>, String> {
    for rule in disabled.rules.keys() {
        if catalogue.rule(rule).is_none() {
            return Err(format!("disabled rule {rule} is not in the catalogue"));
        }
    }
    Ok(disabled.rules.clone())
}

/// The capabilities the profile disables, and those the rest of the profile
/// rules out (a second project, AK/SK signing, a failing task), each with its
/// reason; a reason the profile gives comes first.
pub(super) fn disabled_capabilities(
    disabled: &DisabledFile,
    projects: &[Project],
    bodies: &[(Dialect, CreateBodies)],
    apis: &[Dialect],
) -> Result<BTreeMap<String, String>, String> {
    if let Some(capability) = disabled
        .capabilities
        .keys()
        .find(|c| !CAPABILITIES.contains(&c.as_str()))
    {
        return Err(format!(
            "unknown capability {capability} (known: {})",
            CAPABILITIES.join(", ")
        ));
    }
    let mut disabled_capabilities = disabled.capabilities.clone();
    if projects.len() < 2 {
        disabled_capabilities
            .entry("second-project".to_owned())
            .or_insert_with(|| "the profile names one project only".to_owned());
    }
    if let Some(project) = projects.iter().find(|p| !p.credential.is_aksk()) {
        disabled_capabilities
            .entry("aksk".to_owned())
            .or_insert_with(|| {
                format!(
                    "the {} project authenticates with a token; signatures are checked with an AK/SK profile",
                    project.label
                )
            });
    }
    if bodies.iter().all(|(_, set)| set.failing.is_none()) {
        disabled_capabilities
            .entry("failing-task".to_owned())
            .or_insert_with(|| "the profile names no create body for a failing task".to_owned());
    }
    if bodies.iter().all(|(_, set)| set.retrying.is_none()) {
        disabled_capabilities
            .entry("retrying-task".to_owned())
            .or_insert_with(|| "the profile names no create body for a retrying task".to_owned());
    }
    if apis.len() < 2 {
        disabled_capabilities
            .entry("both-dialects".to_owned())
            .or_insert_with(|| format!("the run judges {} only", apis[0]));
    }
    Ok(disabled_capabilities)
}
