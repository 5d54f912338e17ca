//! Local charts rendered ahead: the renders the Applications of one level of the build
//! will ask for (see [`super::deploy::Builder::resolve`]), planned as plain data and
//! rendered side by side before the Applications are resolved, in order. Each render
//! depends only on its inputs, and the resolution takes a render done ahead only when the
//! inputs it finds are those planned (rendering itself otherwise), so that the model is
//! the one rendering in order builds.

use super::{GitopsModel, NodeRef};
use crate::model::helm::{self, Chart, Release, RenderedChart, Val, value};
use crate::parse::yaml::{Yaml, YamlDoc};
use crate::repo::Repository;
use crate::source::Span;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One render of a local chart as plain data: the chart, the values trees merged over its
/// defaults, the parameters set over them, the release.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RenderInput {
    pub dir: String,
    /// The values trees over the chart's defaults, in merge order.
    pub layers: Vec<Layer>,
    /// `helm.parameters`: (name, value, where the value is written).
    pub parameters: Vec<(String, String, Span)>,
    pub release: Release,
}

/// A values tree of a render.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Layer {
    /// A node of a file's document or of a document the model holds.
    Node(NodeRef),
    /// Document `k` of the YAML text in the scalar at the node (`helm.values: |`).
    Text(NodeRef, u32),
}

/// Where the values trees of renders are read: the model's documents, and those of
/// scalars parsed to plan a level.
pub(super) struct LayerDocs<'m> {
    pub repo: &'m Repository,
    pub model: &'m GitopsModel,
    /// The embedded documents parsed out of each scalar so far.
    pub texts: &'m HashMap<NodeRef, Vec<u32>>,
    /// Documents of scalars parsed to plan the level, not embedded yet.
    pub parsed: &'m HashMap<NodeRef, Vec<YamlDoc>>,
}

impl<'m> LayerDocs<'m> {
    fn yaml(&self, l: Layer) -> Option<Yaml<'m>> {
        match l {
            Layer::Node(r) => self.model.yaml(self.repo, r),
            Layer::Text(r, k) => {
                let doc = match self.texts.get(&r) {
                    Some(ids) => self.model.embedded.get(*ids.get(k as usize)? as usize)?,
                    None => self.parsed.get(&r)?.get(k as usize)?,
                };
                Some(doc.root())
            }
        }
    }
}

/// What the renders on one thread share: charts, and for the chart rendered last, its
/// defaults, the values trees converted and their merges (the Applications of a chart
/// mostly pass the same first value files). Values are shared between renders and copied
/// on write; they are kept for one chart at a time, as holding every tree (maps of several
/// hundred bytes a key) costs more than converting a few again.
#[derive(Default)]
pub(super) struct RenderCache {
    pub charts: helm::Charts,
    /// The chart whose values are kept.
    dir: String,
    values: HashMap<Layer, Option<Val>>,
    /// The chart's defaults with its first values trees merged.
    merged: HashMap<Vec<Layer>, Val>,
}

impl RenderCache {
    /// Keep values for the chart in `dir` (forgetting another's).
    fn keep_for(&mut self, dir: &str) {
        if self.dir != dir {
            self.dir = dir.to_string();
            self.values.clear();
            self.merged.clear();
            self.charts.forget_defaults();
        }
    }
}

/// Merge the values of `input` over the defaults of `chart` (the chart in `input.dir`)
/// and render it.
pub(super) fn render_one(
    docs: &LayerDocs<'_>,
    cache: &mut RenderCache,
    chart: &Rc<Chart>,
    input: &RenderInput,
) -> RenderedChart {
    cache.keep_for(&input.dir);
    // Chart defaults, value files, inline values, valuesObject, then parameters, from the
    // longest run of first trees merged before.
    let (done, mut values) = (1..=input.layers.len())
        .rev()
        .find_map(|n| Some((n, cache.merged.get(&input.layers[..n])?.clone())))
        .unwrap_or_else(|| (0, cache.charts.defaults(docs.repo, chart)));
    for n in done..input.layers.len() {
        let l = input.layers[n];
        let tree = cache
            .values
            .entry(l)
            .or_insert_with(|| docs.yaml(l).map(|y| value::from_yaml(y, 0)));
        if let Some(v) = tree {
            value::merge(&mut values, v);
        }
        cache
            .merged
            .insert(input.layers[..=n].to_vec(), values.clone());
    }
    for (name, val, span) in &input.parameters {
        value::set_path(&mut values, name, val, *span, false);
    }
    helm::render_with(docs.repo, &mut cache.charts, chart, values, &input.release)
}

/// Render `jobs` on `threads` threads, this one (with `cache`) included: the renders of
/// one chart on one thread, which reads the chart and converts its values once. Threads
/// of their own, not rayon's: the model is built inside a `OnceLock`'s initialisation, and
/// a rayon worker waiting here could pick up a rule that asks for the same `OnceLock`.
///
/// `spent` evaluation steps are spent before these renders, of `budget`: a render does
/// not start once more are spent (`None`; which renders the budget stops is decided in
/// order by the resolution, which renders itself those it wants and finds not done).
pub(super) fn render_all(
    docs: &LayerDocs<'_>,
    cache: &mut RenderCache,
    jobs: &[RenderInput],
    threads: usize,
    spent: usize,
    budget: usize,
) -> Vec<Option<RenderedChart>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (j, input) in jobs.iter().enumerate() {
        let g = *group_of.entry(input.dir.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(j);
    }
    let spent = AtomicUsize::new(spent);
    let next = AtomicUsize::new(0);
    let work = |cache: &mut RenderCache| {
        let mut out: Vec<(usize, Option<RenderedChart>)> = Vec::new();
        while let Some(group) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
            for &j in group {
                let input = &jobs[j];
                let done = if spent.load(Ordering::Relaxed) > budget {
                    None
                } else {
                    cache.charts.chart(docs.repo, &input.dir).map(|chart| {
                        let r = render_one(docs, cache, &chart, input);
                        spent.fetch_add(r.steps, Ordering::Relaxed);
                        r
                    })
                };
                out.push((j, done));
            }
        }
        out
    };
    let threads = threads.min(groups.len());
    let results = if threads < 2 {
        work(cache)
    } else {
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads)
                .map(|_| scope.spawn(|| work(&mut RenderCache::default())))
                .collect();
            let mut all = work(cache);
            for h in helpers {
                all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            all
        })
    };
    let mut out: Vec<Option<RenderedChart>> = jobs.iter().map(|_| None).collect();
    for (j, done) in results {
        out[j] = done;
    }
    out
}
