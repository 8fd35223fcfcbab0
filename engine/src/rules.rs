//! Expected differences: what the patch set out to change, as named rules matched by code.
//! A divergence is *expected* only when a rule matches and covers every one of its classes;
//! anything else is a finding. Rules are reported apart, never hidden.

use crate::case::{Errno, FaultPlan, OpKind};
use crate::models::Outcome;
use crate::oracle::{Class, Classes};

/// Facts about a divergent operation that rules may look at.
#[derive(Clone, Copy, Debug)]
pub struct RuleInput {
    /// The names of the two designs compared; every `[_; 2]` below follows this order.
    pub pair: [&'static str; 2],
    pub kind: OpKind,
    pub faults: FaultPlan,
    /// In the pair's order.
    pub outcomes: [Outcome; 2],
    pub classes: Classes,
    /// Whether each model left placement, inventory and list order exactly as they were
    /// before the operation.
    pub unchanged: [bool; 2],
    /// Callback calls each model made during the operation.
    pub callbacks: [usize; 2],
}

/// A named expected difference.
pub struct Rule {
    pub name: &'static str,
    /// The pairs of designs (by name, in order) between which this difference is expected:
    /// what the change from the first to the second set out to do.
    pub pairs: &'static [[&'static str; 2]],
    /// One line: why the patch makes the designs differ here.
    pub reason: &'static str,
    /// The classes this rule may explain.
    pub covers: Classes,
    pub matches: fn(&RuleInput) -> bool,
}

/// The pair every rule below is written for; in it, index 1 is four-stage.
const LEGACY_FOUR_STAGE: &[[&str; 2]] = &[["legacy", "four-stage"]];
const FOUR: usize = 1;

/// Four-stage failed with ENOMEM before doing anything at all: no callback, nothing moved.
fn four_stage_enomem_untouched(i: &RuleInput) -> bool {
    i.faults.alloc.is_some()
        && i.outcomes[FOUR] == Outcome::Err(Errno::ENOMEM)
        && i.unchanged[FOUR]
        && i.callbacks[FOUR] == 0
}

/// Every expected difference cgdiff knows.
pub static RULES: &[Rule] = &[
    Rule {
        name: "all-or-nothing-on-enomem",
        pairs: LEGACY_FOUR_STAGE,
        reason: "the patch's purpose: a multi-target migrate or transfer_tasks that meets an \
                 allocation failure moves nothing in four-stage (prepare_dst fails before any \
                 migration), while legacy has already moved some targets when it fails",
        covers: Classes::of(&[
            Class::Result,
            Class::Placement,
            Class::Inventory,
            Class::Order,
            Class::Callbacks,
            Class::CallbackOrder,
            Class::Release,
        ]),
        matches: |i| {
            matches!(i.kind, OpKind::MigrateMulti | OpKind::TransferTasks)
                && four_stage_enomem_untouched(i)
                && i.outcomes[0] == Outcome::Err(Errno::ENOMEM)
                && !i.unchanged[0]
        },
    },
    Rule {
        name: "enomem-before-side-effects",
        pairs: LEGACY_FOUR_STAGE,
        reason: "four-stage looks up every destination css_set (prepare_dst) before it touches a \
                 task list or calls a can_attach, so its allocation failure comes first and \
                 leaves no trace, where legacy had already collected tasks (reordering the \
                 css_set's task list) and run can_attach callbacks before failing",
        covers: Classes::of(&[
            Class::Result,
            Class::Order,
            Class::Callbacks,
            Class::CallbackOrder,
        ]),
        // attach_task_all may have moved the task on earlier hierarchies in both models before
        // the failing one, so "untouched" is not required here: what marks the rule is that
        // four-stage failed with ENOMEM where legacy had run more callbacks (its can_attach
        // calls) or had reordered lists that four-stage left alone. The covered classes keep
        // placement and inventory equal.
        matches: |i| {
            i.kind.is_migration()
                && i.faults.alloc.is_some()
                && i.outcomes[FOUR] == Outcome::Err(Errno::ENOMEM)
                && matches!(i.outcomes[0], Outcome::Err(_))
                && (i.callbacks[0] > i.callbacks[FOUR] || (i.unchanged[FOUR] && !i.unchanged[0]))
        },
    },
];

/// The first rule of the input's pair that matches the divergence and covers all of its
/// classes.
pub fn match_rule(i: &RuleInput) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.pairs.contains(&i.pair) && i.classes.is_subset(r.covers) && (r.matches)(i))
}

/// Looks a rule up by name (for reports and stored cases).
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}
