//! Bytes → cases. Every byte string decodes to a valid [`Case`]: references are taken modulo
//! what a shadow of the population says is alive, and running out of bytes just ends the case.
//! The same decoder serves the fuzz targets (through `Arbitrary`), campaigns and benchmarks.

use crate::case::{
    CanAttachFault, Case, CaseOp, CgPath, Controller, Errno, ExitAt, FaultPlan, HierarchySetup, Op,
    OpKind, Pid, Setup, StagePoint, Target, MAX_DEPTH, MAX_MOUNTED, MAX_PID,
};
use arbitrary::{Arbitrary, Unstructured};

/// Operations per case when decoding through `Arbitrary` (the fuzz targets).
pub const DEFAULT_MAX_OPS: usize = 48;

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(generate(u, DEFAULT_MAX_OPS))
    }
}

/// Decodes `data` into a case of at most `max_ops` operations.
pub fn from_bytes(data: &[u8], max_ops: usize) -> Case {
    generate(&mut Unstructured::new(data), max_ops)
}

/// What a generator may put in a case beyond the v1 language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenOptions {
    /// Land the exit of an exiting task between the stages of a migration
    /// (`exit-after=POINT:PID`). Only meaningful when both designs compared have the stages:
    /// see [`GenOptions::for_pair`].
    pub exits: bool,
    /// The operation kinds the generator may draw (swarm testing, `crate::mutate::swarm`):
    /// each drawn with its usual weight among the kinds enabled. [`Kinds::ALL`] (the default)
    /// decodes exactly the cases it always did.
    pub kinds: Kinds,
}

/// A set of operation kinds, one bit per [`OpKind`] (in [`OpKind::ALL`] order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kinds(pub u16);

impl Kinds {
    pub const ALL: Kinds = Kinds((1 << OpKind::ALL.len()) - 1);

    pub fn contains(self, k: OpKind) -> bool {
        self.0 & (1 << k as u16) != 0
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds::ALL
    }
}

/// The operation mix: each kind's weight out of 100, in [`OpKind::ALL`] order. The ranges of
/// `roll` in [`generate_with`] are these weights laid end to end.
const WEIGHTS: [u8; 12] = [12, 10, 6, 6, 10, 4, 3, 14, 12, 9, 9, 5];

/// Which operation to draw next, as a roll in 0..100 (see [`WEIGHTS`]). With every kind
/// enabled it is one byte modulo 100, as it always was; with fewer, a byte picks among the
/// enabled kinds by weight and the roll is the start of that kind's range.
fn roll(u: &mut Unstructured, kinds: Kinds) -> u8 {
    if kinds == Kinds::ALL {
        return byte(u) % 100;
    }
    let total: u32 = OpKind::ALL
        .iter()
        .zip(WEIGHTS)
        .filter(|(k, _)| kinds.contains(**k))
        .map(|(_, w)| w as u32)
        .sum();
    if total == 0 {
        return byte(u) % 100;
    }
    let mut r = byte(u) as u32 % total;
    let mut start = 0u8;
    for (k, w) in OpKind::ALL.iter().zip(WEIGHTS) {
        if kinds.contains(*k) {
            if r < w as u32 {
                return start;
            }
            r -= w as u32;
        }
        start += w;
    }
    unreachable!("r < total")
}

impl GenOptions {
    /// What a campaign on `pair` generates: exits between stages when both designs have them.
    /// (A pair with legacy gets none: legacy has no such points, so the exit would land at
    /// another moment in each design and the comparison would flag the timing.) The default
    /// pair's case stream is the v1 stream, byte for byte.
    pub fn for_pair(pair: crate::models::Pair) -> GenOptions {
        GenOptions {
            exits: pair.has_stages(),
            kinds: Kinds::ALL,
        }
    }
}

/// [`from_bytes`] with options. With [`GenOptions::default`] it decodes the same case.
pub fn from_bytes_with(data: &[u8], max_ops: usize, opts: GenOptions) -> Case {
    generate_with(&mut Unstructured::new(data), max_ops, opts)
}

/// The generator's view of the world: which pids and paths exist. It follows only what the
/// operations themselves decide (forks, exits, mkdirs); where it guesses wrong, the models
/// answer with an error, which is still a valid case.
struct Shadow {
    /// (pid, leader, exiting, gone)
    tasks: Vec<(Pid, Pid, bool, bool)>,
    next_pid: Pid,
    /// Known paths per mounted hierarchy (index 0 = h1).
    paths: Vec<Vec<CgPath>>,
}

fn byte(u: &mut Unstructured) -> u8 {
    u.arbitrary::<u8>().unwrap_or(0)
}

fn below(u: &mut Unstructured, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    if n <= 256 {
        byte(u) as usize % n
    } else {
        u.arbitrary::<u16>().unwrap_or(0) as usize % n
    }
}

fn chance(u: &mut Unstructured, percent: u8) -> bool {
    byte(u) % 100 < percent
}

fn setup(u: &mut Unstructured) -> Setup {
    let n = 1 + below(u, MAX_MOUNTED);
    let mut hierarchies: Vec<HierarchySetup> = (0..n)
        .map(|_| HierarchySetup {
            controllers: Vec::new(),
            notify_on_release: chance(u, 50),
        })
        .collect();
    for c in Controller::ALL {
        // 0 = stays on the default hierarchy.
        let h = below(u, n + 1);
        if h > 0 {
            hierarchies[h - 1].controllers.push(c);
        }
    }
    Setup { hierarchies }
}

impl Shadow {
    fn pick_task(&self, u: &mut Unstructured, live_only: bool) -> Pid {
        // Now and then name any pid ever used, to reach the "no such task" paths.
        if !live_only && chance(u, 3) {
            return self.tasks[below(u, self.tasks.len())].0;
        }
        let alive: usize = self
            .tasks
            .iter()
            .filter(|t| !t.3 && (!live_only || !t.2))
            .count();
        if alive == 0 {
            return 1;
        }
        let k = below(u, alive);
        self.tasks
            .iter()
            .filter(|t| !t.3 && (!live_only || !t.2))
            .nth(k)
            .map_or(1, |t| t.0)
    }

    /// Tasks that began exiting and are not gone: the ones an exit can finish.
    fn exiting(&self) -> Vec<Pid> {
        self.tasks
            .iter()
            .filter(|t| t.2 && !t.3)
            .map(|t| t.0)
            .collect()
    }

    fn pick_path(&self, u: &mut Unstructured, hier: usize) -> CgPath {
        let p = &self.paths[hier];
        p[below(u, p.len())].clone()
    }

    fn pick_dst(&self, u: &mut Unstructured) -> CgPath {
        if chance(u, 2) {
            return CgPath::root(0);
        }
        let h = below(u, self.paths.len());
        self.pick_path(u, h)
    }

    fn fork(&mut self, parent: Pid, thread: bool) -> Option<Op> {
        if self.next_pid > MAX_PID {
            return None;
        }
        let child = self.next_pid;
        self.next_pid += 1;
        let parent_leader = self
            .tasks
            .iter()
            .find(|t| t.0 == parent)
            .map_or(parent, |t| t.1);
        let leader = if thread { parent_leader } else { child };
        self.tasks.push((child, leader, false, false));
        Some(Op::Fork {
            parent,
            child,
            thread,
        })
    }

    fn exit_finish(&mut self, pid: Pid) {
        let Some(i) = self.tasks.iter().position(|t| t.0 == pid) else {
            return;
        };
        let (_, leader, exiting, gone) = self.tasks[i];
        if !exiting || gone || pid == 1 {
            return;
        }
        let live_threads = |s: &Shadow, l: Pid| {
            s.tasks
                .iter()
                .filter(|t| t.1 == l && t.0 != l && !t.3)
                .count()
        };
        if pid == leader {
            // A leader with live threads stays, as a zombie that can still be named.
            if live_threads(self, leader) == 0 {
                self.tasks[i].3 = true;
            }
        } else {
            self.tasks[i].3 = true;
            if live_threads(self, leader) == 0 {
                if let Some(l) = self.tasks.iter_mut().find(|t| t.0 == leader && t.2) {
                    l.3 = true;
                }
            }
        }
    }
}

fn faults(u: &mut Unstructured) -> FaultPlan {
    let mut f = FaultPlan::default();
    if chance(u, 35) {
        // Small indices are where the allocations are.
        f.alloc = Some(1 + (byte(u) % 12) as u32);
    }
    if chance(u, 25) {
        let candidates = [
            Controller::Cpuset,
            Controller::Cpu,
            Controller::Memory,
            Controller::Blkio,
        ];
        f.can_attach = Some(CanAttachFault {
            controller: candidates[below(u, candidates.len())],
            nth: 1 + (byte(u) % 3) as u32,
            errno: Errno::CAN_ATTACH[below(u, Errno::CAN_ATTACH.len())],
        });
    }
    f
}

/// Decodes one case from `u`; never fails.
pub fn generate(u: &mut Unstructured, max_ops: usize) -> Case {
    generate_with(u, max_ops, GenOptions::default())
}

/// [`generate`] with options.
pub fn generate_with(u: &mut Unstructured, max_ops: usize, opts: GenOptions) -> Case {
    let setup = setup(u);
    let n = setup.hierarchies.len();
    let mut sh = Shadow {
        tasks: vec![(1, 1, false, false)],
        next_pid: 2,
        paths: (1..=n).map(|h| vec![CgPath::root(h as u8)]).collect(),
    };
    let mut ops = Vec::new();
    while ops.len() < max_ops && !u.is_empty() {
        let op = match roll(u, opts.kinds) {
            0..=11 => {
                let parent = sh.pick_task(u, true);
                sh.fork(parent, false)
            }
            12..=21 => {
                let parent = sh.pick_task(u, true);
                sh.fork(parent, true)
            }
            22..=27 => {
                let pid = sh.pick_task(u, true);
                if let Some(t) = sh.tasks.iter_mut().find(|t| t.0 == pid && pid != 1) {
                    t.2 = true;
                }
                Some(Op::ExitBegin { pid })
            }
            28..=33 => {
                let exiting = sh.exiting();
                let pid = if exiting.is_empty() {
                    sh.pick_task(u, false)
                } else {
                    exiting[below(u, exiting.len())]
                };
                sh.exit_finish(pid);
                Some(Op::ExitFinish { pid })
            }
            34..=43 => {
                let h = below(u, n);
                let parent = sh.pick_path(u, h);
                let name = ["a", "b", "c"][below(u, 3)];
                if parent.parts.len() >= MAX_DEPTH {
                    None
                } else {
                    let path = parent.child(name);
                    if !sh.paths[h].contains(&path) {
                        sh.paths[h].push(path.clone());
                    }
                    Some(Op::Mkdir { path })
                }
            }
            44..=47 => {
                let h = below(u, n);
                Some(Op::Rmdir {
                    path: sh.pick_path(u, h),
                })
            }
            48..=50 => Some(Op::AddController {
                controller: Controller::ALL[below(u, Controller::ALL.len())],
                hier: 1 + below(u, n) as u8,
            }),
            51..=64 => Some(Op::MigrateTask {
                pid: sh.pick_task(u, false),
                dst: sh.pick_dst(u),
            }),
            65..=76 => Some(Op::MigrateProcess {
                pid: sh.pick_task(u, false),
                dst: sh.pick_dst(u),
            }),
            77..=85 => {
                let dst = sh.pick_dst(u);
                let count = 2 + below(u, 3);
                let targets = (0..count)
                    .map(|_| Target {
                        pid: sh.pick_task(u, false),
                        process: chance(u, 50),
                    })
                    .collect();
                Some(Op::MigrateMulti { dst, targets })
            }
            86..=94 => {
                let h = below(u, n);
                let from = sh.pick_path(u, h);
                let mut to = sh.pick_path(u, h);
                // from == to spins in both designs (a finding of its own, see
                // docs/findings.md); re-pick once so it does not swamp campaigns.
                if to == from {
                    to = sh.pick_path(u, h);
                }
                if to == from && sh.paths[h].len() == 1 {
                    // Nothing else to transfer to yet: make somewhere, if there is room for
                    // two more operations (a case never exceeds `max_ops`).
                    if ops.len() + 2 > max_ops {
                        continue;
                    }
                    let path = CgPath::root(h as u8 + 1).child("t");
                    sh.paths[h].push(path.clone());
                    ops.push(CaseOp {
                        op: Op::Mkdir { path: path.clone() },
                        faults: FaultPlan::default(),
                    });
                    to = path;
                }
                Some(Op::TransferTasks { from, to })
            }
            _ => Some(Op::AttachTaskAll {
                from: sh.pick_task(u, false),
                pid: sh.pick_task(u, false),
            }),
        };
        let Some(op) = op else { continue };
        let mut faults = if op.kind().is_migration() {
            faults(u)
        } else {
            FaultPlan::default()
        };
        if opts.exits && op.kind().is_migration() {
            // An exiting task may finish its exit between two stages of any migration (it
            // does not take cgroup_mutex): pick one of the exiting tasks, as exit-finish does.
            let exiting = sh.exiting();
            if !exiting.is_empty() && chance(u, 40) {
                let pid = exiting[below(u, exiting.len())];
                let after = StagePoint::ALL[below(u, StagePoint::ALL.len())];
                sh.exit_finish(pid);
                faults.exit = Some(ExitAt { after, pid });
            }
        }
        ops.push(CaseOp { op, faults });
    }
    Case { setup, ops }
}

/// Fills `out` with `len` bytes of a deterministic stream for `seed` (splitmix64). Campaigns,
/// benchmarks and tests draw their inputs from here so that a seed names a case for good.
pub fn seeded_bytes(seed: u64, len: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut state = seed;
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = crate::world::mix(state);
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case never has more than `max_ops` operations, even when the last one is a transfer
    /// that needs a cgroup made for it first (it used to push both, one past the limit).
    #[test]
    fn a_case_never_exceeds_max_ops() {
        let mut bytes = Vec::new();
        for max_ops in 1..=6 {
            for seed in 0..3000 {
                seeded_bytes(seed, 256, &mut bytes);
                let case = from_bytes(&bytes, max_ops);
                assert!(
                    case.ops.len() <= max_ops,
                    "seed {seed}: {} operations for max_ops {max_ops}",
                    case.ops.len()
                );
            }
        }
    }
}
