//! PNG plots (plotters, with a bundled DejaVu Sans font so text renders on any machine).
//! Each plot is drawn to a temporary file and renamed into place.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::EpochRecord;
use crate::train_error::TrainError;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

fn ensure_font() {
    FONT.call_once(|| {
        // The font is bundled and valid; failing here would only lose the text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

fn draw_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Io {
        path: path.into(),
        source: std::io::Error::other(format!("cannot draw: {e}")),
    }
}

/// Draws into a temporary PNG beside `path`, then renames it over `path`.
fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<(), TrainError> {
    ensure_font();
    // The encoder picks the format from the extension, so the temporary name ends in .png.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}.png", std::process::id()));
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(path, e))?;
        draw(root.clone()).map_err(|e| draw_err(path, e))?;
        root.present().map_err(|e| draw_err(path, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|source| TrainError::Io {
        path: path.into(),
        source,
    })
}

/// A linear `f64` axis labelled at given points only (plotters' `WithKeyPoints` wrapper drops
/// the `f64` label formatting, so the mesh could not be drawn with it).
struct TickedAxis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Self {
        Self { range, ticks }
    }
}

impl plotters::coord::ranged1d::Ranged for TickedAxis {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }

    /// As plotters' own `f64` axis maps.
    fn map(&self, v: &f64, (lo, hi): (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span == 0.0 {
            return (hi - lo) / 2;
        }
        let t = (v - self.range.start) / span;
        lo + ((hi - lo) as f64 * t + 1e-3).floor() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// Draws `chart`'s series legend at `position`, boxed on a translucent white background.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Loss (left) and headline metric (right) per epoch, training and validation.
pub fn training_curves(
    path: &Path,
    title: &str,
    history: &[EpochRecord],
) -> Result<(), TrainError> {
    let train_loss: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let valid_loss: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| Some((r.epoch as f64, r.valid.as_ref()?.loss)))
        .collect();
    let train_metric: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| Some((r.epoch as f64, r.train_accuracy?)))
        .collect();
    let valid_metric: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|r| Some((r.epoch as f64, r.valid.as_ref()?.metrics.headline().1)))
        .collect();
    let metric_name = history
        .iter()
        .find_map(|r| r.valid.as_ref().map(|v| v.metrics.headline().0))
        .map_or("accuracy", |name| match name {
            "acc" => "accuracy",
            "r2" => "R²",
            other => other,
        });
    line_panels(
        path,
        title,
        vec![
            (
                "loss",
                vec![("train", train_loss, BLUE), ("valid", valid_loss, RED)],
            ),
            (
                metric_name,
                vec![("train", train_metric, BLUE), ("valid", valid_metric, RED)],
            ),
        ],
    )
}

/// The epochs an x-axis over epochs `1..=last` labels: every epoch up to `max_labels`, else
/// 1 and the multiples of the smallest step of 1, 2 or 5 × 10ⁿ that keeps the labels within
/// `max_labels` — whole epochs only.
pub fn epoch_ticks(last: usize, max_labels: usize) -> Vec<usize> {
    let last = last.max(1);
    let max_labels = max_labels.max(2);
    if last <= max_labels {
        return (1..=last).collect();
    }
    let mut step = 1;
    'search: for scale in std::iter::successors(Some(1usize), |s| s.checked_mul(10)) {
        for m in [1, 2, 5] {
            step = m * scale;
            // 1, then step, 2·step, ... ≤ last.
            if last / step < max_labels {
                break 'search;
            }
        }
    }
    std::iter::once(1)
        .chain((step..=last).step_by(step).filter(|&e| e > 1))
        .collect()
}

/// One panel of [`line_panels`]: its y-axis name and its labelled, coloured lines.
type Panel<'a> = (&'a str, Vec<(&'a str, Vec<(f64, f64)>, RGBColor)>);

/// Panels side by side, each a chart of lines over epochs (x from 1).
fn line_panels(path: &Path, title: &str, panels: Vec<Panel<'_>>) -> Result<(), TrainError> {
    let epochs = panels
        .iter()
        .flat_map(|(_, lines)| lines.iter().flat_map(|(_, l, _)| l.iter().map(|p| p.0)))
        .fold(1f64, f64::max);
    let ticks: Vec<f64> = epoch_ticks(epochs as usize, 12)
        .into_iter()
        .map(|e| e as f64)
        .collect();
    png(path, (600 * panels.len() as u32, 450), |root| {
        let root = root
            .titled(title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let areas = root.split_evenly((1, panels.len()));
        for (area, (name, lines)) in areas.iter().zip(panels) {
            let (lo, hi) = range(lines.iter().flat_map(|(_, l, _)| l.iter().map(|p| p.1)));
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(
                    TickedAxis::new(1f64..epochs.max(2.0), ticks.clone()),
                    lo..hi,
                )
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_desc(name)
                .draw()
                .map_err(|e| e.to_string())?;
            // The legend goes in the right-hand corner the lines end farther from.
            let ends: Vec<f64> = lines
                .iter()
                .filter_map(|(_, l, _)| l.last())
                .map(|p| p.1)
                .collect();
            let ends_high =
                !ends.is_empty() && ends.iter().sum::<f64>() / ends.len() as f64 > (lo + hi) / 2.0;
            for (label, points, color) in lines {
                if points.is_empty() {
                    continue;
                }
                // Few epochs: mark each one, so a reader sees where the measurements are.
                if points.len() <= 30 {
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(|e| e.to_string())?;
                }
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            legend(
                &mut chart,
                if ends_high {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                },
            )?;
        }
        Ok(())
    })
}

/// A GAN's per-epoch losses (left) and mean discriminator outputs (right).
pub fn gan_curves(
    path: &Path,
    title: &str,
    history: &[crate::adversarial::GanEpochRecord],
) -> Result<(), TrainError> {
    let series = |f: fn(&crate::adversarial::GanEpochRecord) -> f64| -> Vec<(f64, f64)> {
        history.iter().map(|r| (r.epoch as f64, f(r))).collect()
    };
    line_panels(
        path,
        title,
        vec![
            (
                "loss",
                vec![
                    ("discriminator", series(|r| r.d_loss), RED),
                    ("generator", series(|r| r.g_loss), BLUE),
                ],
            ),
            (
                "mean discriminator output",
                vec![
                    ("D(x)", series(|r| r.d_real), RED),
                    ("D(G(z))", series(|r| r.d_fake), BLUE),
                ],
            ),
        ],
    )
}

/// A 2-D binary classifier's probability map with the points drawn over it.
pub struct DecisionMap<'a> {
    /// Grid x coordinates (`nx` values, increasing).
    pub xs: &'a [f64],
    /// Grid y coordinates (`ny` values, increasing).
    pub ys: &'a [f64],
    /// P(class 1) per grid cell, row-major over `ys` then `xs`.
    pub p1: &'a [f32],
    /// Points: x, y, true class, predicted class.
    pub points: &'a [(f64, f64, usize, usize)],
    /// Axis labels.
    pub labels: (&'a str, &'a str),
}

/// Draws a [`DecisionMap`]: blue (class 0) to orange (class 1) background, the 0.5 contour
/// shown by the colour change, points coloured by true class, misclassified points ringed.
pub fn decision_map(path: &Path, title: &str, map: &DecisionMap<'_>) -> Result<(), TrainError> {
    let (nx, ny) = (map.xs.len(), map.ys.len());
    if nx < 2 || ny < 2 || map.p1.len() != nx * ny {
        return Err(TrainError::Invalid(
            "decision map grid has the wrong size".into(),
        ));
    }
    let dx = map.xs[1] - map.xs[0];
    let dy = map.ys[1] - map.ys[0];
    let blend = |p: f32| {
        let p = p.clamp(0.0, 1.0) as f64;
        let (a, b) = ((66.0, 133.0, 244.0), (255.0, 153.0, 51.0));
        let mix = |u: f64, v: f64| (255.0 - (255.0 - (u + (v - u) * p)) * 0.45) as u8;
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    };
    png(path, (800, 700), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(
                map.xs[0]..map.xs[nx - 1] + dx,
                map.ys[0]..map.ys[ny - 1] + dy,
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(map.labels.0)
            .y_desc(map.labels.1)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series((0..ny).flat_map(|j| {
                (0..nx).map(move |i| {
                    let (x, y) = (map.xs[i], map.ys[j]);
                    Rectangle::new(
                        [(x, y), (x + dx, y + dy)],
                        blend(map.p1[j * nx + i]).filled(),
                    )
                })
            }))
            .map_err(|e| e.to_string())?;
        let colors = [RGBColor(25, 70, 200), RGBColor(220, 90, 0)];
        for (class, color) in colors.into_iter().enumerate() {
            chart
                .draw_series(
                    map.points
                        .iter()
                        .filter(|p| p.2.min(1) == class)
                        .map(move |&(x, y, _, _)| Circle::new((x, y), 4, color.filled())),
                )
                .map_err(|e| e.to_string())?
                .label(format!("class {class}"))
                .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
        }
        chart
            .draw_series(
                map.points
                    .iter()
                    .filter(|p| p.2 != p.3)
                    .map(|&(x, y, _, _)| Circle::new((x, y), 8, BLACK.stroke_width(2))),
            )
            .map_err(|e| e.to_string())?
            .label("misclassified")
            .legend(|(x, y)| Circle::new((x + 9, y), 7, BLACK.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// A classifier's confusion matrix as a heatmap: true class down, predicted class across,
/// each cell's count written in it and shaded by its share of the true class's row (so a
/// rare class's errors show as clearly as a common one's). `names` label the classes (index
/// numbers where it is short).
pub fn confusion_heatmap(
    path: &Path,
    title: &str,
    matrix: &crate::metrics::ConfusionMatrix,
    names: &[String],
) -> Result<(), TrainError> {
    let k = matrix.num_classes;
    if k == 0 || matrix.counts.len() != k * k {
        return Err(TrainError::Invalid(
            "confusion matrix has the wrong size".into(),
        ));
    }
    let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| i.to_string());
    let label_px = (0..k).map(|i| name(i).chars().count()).max().unwrap_or(1) as u32 * 8 + 24;
    let cell = (520 / k as u32).clamp(22, 140);
    let side = cell * k as u32;
    // Wide enough for the title.
    let size = ((side + label_px + 60).max(520), side + label_px + 70);
    let centres: Vec<f64> = (0..k).map(|i| i as f64 + 0.5).collect();
    let (kf, font) = (k as f64, (cell / 3).clamp(8, 15));
    png(path, size, |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(label_px)
            .y_label_area_size(label_px)
            .build_cartesian_2d(
                TickedAxis::new(0f64..kf, centres.clone()),
                TickedAxis::new(0f64..kf, centres.clone()),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .x_label_formatter(&|x| name(x.floor() as usize))
            // Row 0 at the top.
            .y_label_formatter(&|y| name(k - 1 - (y.floor() as usize).min(k - 1)))
            .draw()
            .map_err(|e| e.to_string())?;
        for t in 0..k {
            let row_total = (0..k).map(|p| matrix.get(t, p)).sum::<u64>().max(1) as f64;
            for p in 0..k {
                let count = matrix.get(t, p);
                let share = count as f64 / row_total;
                let shade = |c: f64| (255.0 - (255.0 - c) * share) as u8;
                let color = RGBColor(shade(31.0), shade(119.0), shade(180.0));
                let (x, y) = (p as f64, (k - 1 - t) as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        color.filled(),
                    )))
                    .map_err(|e| e.to_string())?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                let style = ("sans-serif", font).into_font().color(&ink).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                chart
                    .draw_series(std::iter::once(Text::new(
                        count.to_string(),
                        (x + 0.5, y + 0.5),
                        style,
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

/// A binary classifier's ROC curve (`points` from [`crate::metrics::roc_points`]) with the
/// chance diagonal and the AUC in the legend.
pub fn roc_curve(
    path: &Path,
    title: &str,
    points: &[(f64, f64)],
    auc: f64,
) -> Result<(), TrainError> {
    png(path, (620, 580), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1.001f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label("chance (AUC 0.5)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RGBColor(150, 150, 150)));
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("model (AUC {auc:.4})"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// A regression's predictions against the true values (`pairs`: true, predicted), with the
/// identity line and R² in the legend. At most 5,000 points are drawn (evenly picked).
pub fn predicted_vs_true(
    path: &Path,
    title: &str,
    pairs: &[(f64, f64)],
    r2: f64,
) -> Result<(), TrainError> {
    let stride = pairs.len().div_ceil(5000).max(1);
    let shown: Vec<(f64, f64)> = pairs.iter().step_by(stride).copied().collect();
    let (lo, hi) = range(shown.iter().flat_map(|&(t, p)| [t, p]));
    png(path, (620, 580), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("true value")
            .y_desc("predicted")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(lo, lo), (hi, hi)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label("predicted = true")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RGBColor(150, 150, 150)));
        chart
            .draw_series(
                shown
                    .iter()
                    .map(|&(t, p)| Circle::new((t, p), 2, BLUE.mix(0.5).filled())),
            )
            .map_err(|e| e.to_string())?
            .label(format!("test samples (R² {r2:.4})"))
            .legend(|(x, y)| Circle::new((x + 9, y), 3, BLUE.filled()));
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The plots of a test evaluation, written into `dir`: `confusion.png` for a classifier
/// (class `names`), `roc.png` when it has two classes, `predicted_vs_true.png` for a
/// regression. Returns the `report.json` `extra` entries naming the files written.
pub fn evaluation_plots(
    dir: &crate::artifacts::ArtifactDir,
    what: &str,
    eval: &crate::train::Evaluation,
    names: &[String],
) -> Result<Vec<(String, serde_json::Value)>, TrainError> {
    use crate::report::Metrics;
    let mut written = Vec::new();
    let mut file = |key: &str, name: &str| {
        written.push((key.to_string(), serde_json::Value::from(name)));
        dir.path(name)
    };
    match &eval.summary.metrics {
        Metrics::Classification(m) => {
            if let Some(matrix) = &eval.confusion {
                let title = format!("{what}: test confusion matrix (accuracy {:.4})", m.accuracy);
                confusion_heatmap(
                    &file("confusion_plot", "confusion.png"),
                    &title,
                    matrix,
                    names,
                )?;
                let k = matrix.num_classes;
                if k == 2 {
                    let scores: Vec<f64> = eval.outputs.chunks(2).map(|r| r[1] as f64).collect();
                    let positive: Vec<bool> = eval.targets.iter().map(|&t| t == 1.0).collect();
                    if let (Some(points), Some(auc)) =
                        (crate::metrics::roc_points(&scores, &positive), m.auc)
                    {
                        let positive_name = names.get(1).cloned().unwrap_or_else(|| "1".into());
                        let title = format!("{what}: test ROC, positive class {positive_name}");
                        roc_curve(&file("roc", "roc.png"), &title, &points, auc)?;
                    }
                }
            }
        }
        Metrics::Regression(m) => {
            let pairs: Vec<(f64, f64)> = eval
                .targets
                .iter()
                .zip(&eval.outputs)
                .map(|(&t, &p)| (t, p as f64))
                .collect();
            let title = format!("{what}: test predictions");
            predicted_vs_true(
                &file("predicted_vs_true", "predicted_vs_true.png"),
                &title,
                &pairs,
                m.r2,
            )?;
        }
    }
    Ok(written)
}

/// One tile of an [`image_grid`].
pub struct Tile<'a> {
    /// Grayscale pixels, row-major, 0 = black.
    pub pixels: &'a [u8],
    /// Caption under the tile (e.g. `true 3 / pred 5`).
    pub caption: String,
}

/// Draws grayscale images (all `rows x cols`) in a grid of `columns`, each scaled by `scale`,
/// with a caption under each.
pub fn image_grid(
    path: &Path,
    title: &str,
    tiles: &[Tile<'_>],
    (rows, cols): (usize, usize),
    columns: usize,
    scale: u32,
) -> Result<(), TrainError> {
    let columns = columns.max(1);
    let grid_rows = tiles.len().div_ceil(columns).max(1);
    let caption_h = if tiles.iter().any(|t| !t.caption.is_empty()) {
        18
    } else {
        0
    };
    let (tw, th) = (cols as u32 * scale + 8, rows as u32 * scale + 8 + caption_h);
    let title_h = if title.is_empty() { 0 } else { 36 };
    let size = (tw * columns as u32 + 8, th * grid_rows as u32 + title_h + 8);
    png(path, size, |root| {
        if !title.is_empty() {
            root.draw_text(title, &("sans-serif", 20).into_text_style(&root), (8, 8))
                .map_err(|e| e.to_string())?;
        }
        for (k, tile) in tiles.iter().enumerate() {
            let (gx, gy) = ((k % columns) as u32, (k / columns) as u32);
            let (x0, y0) = (8 + gx * tw, title_h + 4 + gy * th);
            for r in 0..rows {
                for c in 0..cols {
                    let v = tile.pixels.get(r * cols + c).copied().unwrap_or(0);
                    let color = RGBColor(v, v, v);
                    let (px, py) = (x0 + c as u32 * scale, y0 + r as u32 * scale);
                    root.draw(&Rectangle::new(
                        [
                            (px as i32, py as i32),
                            ((px + scale) as i32, (py + scale) as i32),
                        ],
                        color.filled(),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
            if caption_h > 0 {
                let style = ("sans-serif", 13).into_text_style(&root);
                root.draw_text(
                    &tile.caption,
                    &style,
                    (x0 as i32, (y0 + rows as u32 * scale + 2) as i32),
                )
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

/// One panel of [`ratio_bars`]: its y-axis name and, per series (a backend), one ratio per
/// group (a model; `None`: no bar).
pub type RatioPanel<'a> = (&'a str, Vec<(&'a str, Vec<Option<f64>>)>);

/// A value label of [`ratio_bars`], in pixels of its panel's plotting area (y down).
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLabel {
    /// The text, e.g. `1.23×`.
    pub text: String,
    /// Left edge.
    pub left: i32,
    /// Right edge.
    pub right: i32,
    /// Top edge.
    pub top: i32,
    /// Bottom edge (2 px above its bar).
    pub bottom: i32,
}

/// The y-axis top of a ratio panel: 1.6 × the largest ratio (at least 1.6, so the 1.0× line
/// always shows), which leaves the tallest bar's label and the legend room below the top.
fn ratio_axis_top(series: &[(&str, Vec<Option<f64>>)]) -> f64 {
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    max * 1.6
}

/// Bar `k` of `n` in group `g`, as x data coordinates (groups are one unit wide).
fn bar_span(g: usize, k: usize, n: usize) -> (f64, f64) {
    let x0 = g as f64 + 0.1 + 0.8 * k as f64 / n as f64;
    (x0, x0 + 0.8 / n as f64)
}

/// Where [`ratio_bars`] writes each value, for a plotting area of `width` × `height` pixels
/// whose y axis runs from 0 to `y_max`: centred above its bar, in the largest font size of
/// 7–12 px whose every label fits its bar's width. Bars never share x pixels, so labels that
/// fit their bars never overlap (tested).
pub fn ratio_labels(
    series: &[(&str, Vec<Option<f64>>)],
    groups: usize,
    y_max: f64,
    (width, height): (u32, u32),
) -> (u32, Vec<PlacedLabel>) {
    ensure_font();
    let n = series.len().max(1);
    let px = |x: f64| x / groups.max(1) as f64 * width as f64;
    let bar_px = px(0.8 / n as f64) - 2.0;
    let texts: Vec<(usize, usize, f64, String)> = series
        .iter()
        .enumerate()
        .flat_map(|(k, (_, values))| {
            values.iter().enumerate().filter_map(move |(g, v)| {
                let v = v.filter(|v| v.is_finite() && *v > 0.0)?;
                Some((k, g, v, format!("{v:.2}×")))
            })
        })
        .collect();
    let measure = |size: u32, text: &str| {
        ("sans-serif", size)
            .into_font()
            .box_size(text)
            .map(|(w, h)| (w as f64, h as f64))
            .unwrap_or((text.chars().count() as f64 * size as f64 * 0.6, size as f64))
    };
    let size = (7..=12)
        .rev()
        .find(|&size| texts.iter().all(|t| measure(size, &t.3).0 <= bar_px))
        .unwrap_or(7);
    let labels = texts
        .into_iter()
        .map(|(k, g, v, text)| {
            let (x0, x1) = bar_span(g, k, n);
            let (w, h) = measure(size, &text);
            let centre = (px(x0) + px(x1)) / 2.0;
            let bar_top = height as f64 * (1.0 - v.min(y_max) / y_max);
            let bottom = (bar_top - 2.0).max(h);
            PlacedLabel {
                text,
                left: (centre - w / 2.0).floor() as i32,
                right: (centre + w / 2.0).ceil() as i32,
                top: (bottom - h).floor() as i32,
                bottom: bottom.ceil() as i32,
            }
        })
        .collect();
    (size, labels)
}

/// Panels stacked vertically, each a bar chart of speed ratios (e.g. against PyTorch): one
/// cluster per group (a model), one coloured bar per series (a backend), a line at 1.0× and
/// each bar's value above it ([`ratio_labels`]). The chart widens with the number of bars so
/// every label fits its bar.
pub fn ratio_bars(
    path: &Path,
    title: &str,
    groups: &[&str],
    panels: Vec<RatioPanel<'_>>,
) -> Result<(), TrainError> {
    const COLORS: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let bars = groups.len().max(1) * panels.iter().map(|p| p.1.len()).max().unwrap_or(1).max(1);
    let width = (bars as u32 * 48 + 140).max(900);
    png(path, (width, 400 * panels.len().max(1) as u32), |root| {
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len().max(1), 1));
        for (area, (name, series)) in areas.iter().zip(panels) {
            let y_max = ratio_axis_top(&series);
            let n = series.len().max(1);
            let centres: Vec<f64> = (0..groups.len()).map(|g| g as f64 + 0.5).collect();
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(
                    TickedAxis::new(0f64..groups.len().max(1) as f64, centres),
                    0f64..y_max,
                )
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&|x| {
                    groups
                        .get(x.floor() as usize)
                        .map(|g| g.to_string())
                        .unwrap_or_default()
                })
                .y_desc(name)
                .y_label_formatter(&|y| format!("{y:.1}×"))
                .draw()
                .map_err(|e| e.to_string())?;
            for (k, (label, values)) in series.iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                let rects: Vec<_> = values
                    .iter()
                    .enumerate()
                    .filter_map(|(g, v)| {
                        let v = v.filter(|v| v.is_finite() && *v > 0.0)?;
                        let (x0, x1) = bar_span(g, k, n);
                        Some(Rectangle::new(
                            [(x0, 0.0), (x1, v.min(y_max))],
                            color.filled(),
                        ))
                    })
                    .collect();
                chart
                    .draw_series(rects)
                    .map_err(|e| e.to_string())?
                    .label(*label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                    });
            }
            chart
                .draw_series(LineSeries::new(
                    [(0.0, 1.0), (groups.len().max(1) as f64, 1.0)],
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label("1.0× (as fast as PyTorch)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK));
            let plot = chart.plotting_area();
            let (xr, yr) = plot.get_pixel_range();
            let size = ((xr.end - xr.start) as u32, (yr.end - yr.start) as u32);
            let (font, labels) = ratio_labels(&series, groups.len(), y_max, size);
            let pixels = plot.strip_coord_spec();
            for l in labels {
                pixels
                    .draw(&Text::new(
                        l.text,
                        (l.left, l.top),
                        ("sans-serif", font).into_font(),
                    ))
                    .map_err(|e| e.to_string())?;
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ClassificationMetrics;
    use crate::report::{EvalSummary, Metrics};

    fn is_png(path: &Path) -> bool {
        std::fs::read(path)
            .map(|b| b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 2000)
            .unwrap_or(false)
    }

    /// Decodes the PNG at `path` and returns its size.
    fn png_size(path: &Path) -> (u32, u32) {
        let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (img.width(), img.height())
    }

    #[test]
    fn epoch_axes_tick_whole_epochs_within_twelve_labels() {
        assert_eq!(epoch_ticks(1, 12), [1]);
        assert_eq!(epoch_ticks(5, 12), [1, 2, 3, 4, 5]);
        assert_eq!(epoch_ticks(13, 12), [1, 2, 4, 6, 8, 10, 12]);
        assert_eq!(epoch_ticks(30, 12), [1, 5, 10, 15, 20, 25, 30]);
        assert_eq!(epoch_ticks(150, 12), [1, 20, 40, 60, 80, 100, 120, 140]);
        for last in 1..=2000 {
            let t = epoch_ticks(last, 12);
            assert!(t.len() <= 12 && t[0] == 1, "{last}: {t:?}");
            assert!(t.windows(2).all(|w| w[0] < w[1]) && *t.last().unwrap() <= last);
        }
    }

    #[test]
    fn ratio_labels_never_overlap_and_sit_above_their_bars() {
        for (groups, n) in [(1, 1), (5, 1), (5, 3), (5, 5), (8, 6)] {
            let series: Vec<(&str, Vec<Option<f64>>)> = (0..n)
                .map(|k| {
                    let values = (0..groups)
                        .map(|g| match (g + k) % 4 {
                            0 => Some(12.34),
                            1 => None,
                            r => Some(0.3 + 0.45 * r as f64),
                        })
                        .collect();
                    ("backend", values)
                })
                .collect();
            let bars = series.iter().flat_map(|s| s.1.iter().flatten()).count();
            // The plotting area of ratio_bars's chart of this many bars.
            let width = ((groups * n) as u32 * 48 + 140).max(900) - 2 * 12 - 60;
            let y_max = ratio_axis_top(&series);
            let (font, labels) = ratio_labels(&series, groups, y_max, (width, 320));
            assert!((7..=12).contains(&font));
            assert_eq!(labels.len(), bars);
            for (i, a) in labels.iter().enumerate() {
                assert!(
                    a.left >= 0 && a.right <= width as i32 && a.top >= 0,
                    "{a:?}"
                );
                assert!(a.top < a.bottom && a.left < a.right, "{a:?}");
                for b in &labels[i + 1..] {
                    let apart = a.right <= b.left
                        || b.right <= a.left
                        || a.bottom <= b.top
                        || b.bottom <= a.top;
                    assert!(apart, "{groups}x{n}: {a:?} overlaps {b:?}");
                }
            }
        }
    }

    #[test]
    fn evaluation_plots_are_written_and_decode() {
        let dir = tempfile::tempdir().unwrap();
        let run = crate::artifacts::ArtifactDir::prepare(dir.path(), crate::Mode::Fresh).unwrap();
        let matrix = crate::metrics::ConfusionMatrix::from_predictions(
            &[0, 1, 1, 0, 1, 1],
            &[0, 1, 0, 0, 1, 1],
            2,
        );
        let names = vec!["negative".to_string(), "positive".to_string()];
        let eval = crate::train::Evaluation {
            summary: EvalSummary {
                loss: 0.4,
                metrics: Metrics::Classification(ClassificationMetrics {
                    accuracy: 5.0 / 6.0,
                    auc: Some(0.9),
                    ..Default::default()
                }),
            },
            outputs: vec![0.9, 0.1, 0.2, 0.8, 0.4, 0.6, 0.7, 0.3, 0.1, 0.9, 0.3, 0.7],
            confusion: Some(matrix),
            targets: vec![0.0, 1.0, 0.0, 0.0, 1.0, 1.0],
        };
        let written = evaluation_plots(&run, "test", &eval, &names).unwrap();
        let files: Vec<&str> = written.iter().map(|(_, f)| f.as_str().unwrap()).collect();
        assert_eq!(files, ["confusion.png", "roc.png"]);
        assert_eq!(png_size(&run.path("roc.png")), (620, 580));
        let (w, h) = png_size(&run.path("confusion.png"));
        assert!(
            (300..1200).contains(&w) && (300..1200).contains(&h),
            "{w}x{h}"
        );

        let regression = crate::train::Evaluation {
            summary: EvalSummary {
                loss: 0.1,
                metrics: Metrics::Regression(crate::metrics::regression_metrics(
                    &[1.0, 2.1, 2.9],
                    &[1.0, 2.0, 3.0],
                )),
            },
            outputs: vec![1.0, 2.1, 2.9],
            confusion: None,
            targets: vec![1.0, 2.0, 3.0],
        };
        let written = evaluation_plots(&run, "test", &regression, &[]).unwrap();
        assert_eq!(written[0].1, "predicted_vs_true.png");
        assert_eq!(png_size(&run.path("predicted_vs_true.png")), (620, 580));

        let chart = dir.path().join("ratios.png");
        ratio_bars(
            &chart,
            "ratios",
            &["mlp", "cnn"],
            vec![
                ("training", vec![("ndarray", vec![Some(1.5), Some(0.7)])]),
                ("inference", vec![("ndarray", vec![Some(2.0), None])]),
            ],
        )
        .unwrap();
        assert_eq!(png_size(&chart), (900, 800));
    }

    #[test]
    fn curves_and_map_are_written_as_png() {
        let dir = tempfile::tempdir().unwrap();
        let history: Vec<EpochRecord> = (1..=5)
            .map(|e| EpochRecord {
                epoch: e,
                lr: 0.01,
                train_loss: 1.0 / e as f64,
                train_accuracy: Some(0.5 + 0.05 * e as f64),
                valid: Some(EvalSummary {
                    loss: 1.2 / e as f64,
                    metrics: Metrics::Classification(ClassificationMetrics {
                        accuracy: 0.5 + 0.04 * e as f64,
                        ..Default::default()
                    }),
                }),
                train_seconds: 1.0,
                samples_per_sec: 100.0,
            })
            .collect();
        let curves = dir.path().join("curves.png");
        training_curves(&curves, "test", &history).unwrap();
        assert!(is_png(&curves));

        let xs: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect();
        let p1: Vec<f32> = (0..100).map(|i| (i % 10) as f32 / 10.0).collect();
        let points = [(0.1, 0.1, 0, 0), (0.8, 0.5, 1, 0)];
        let map = DecisionMap {
            xs: &xs,
            ys: &xs,
            p1: &p1,
            points: &points,
            labels: ("x1", "x2"),
        };
        let out = dir.path().join("map.png");
        decision_map(&out, "map", &map).unwrap();
        assert!(is_png(&out));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary files left"
        );
    }
}
