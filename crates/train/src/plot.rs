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
        .unwrap_or("acc");
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

/// One panel of [`line_panels`]: its y-axis name and its labelled, coloured lines.
type Panel<'a> = (&'a str, Vec<(&'a str, Vec<(f64, f64)>, RGBColor)>);

/// Panels side by side, each a chart of lines over epochs (x from 1).
fn line_panels(path: &Path, title: &str, panels: Vec<Panel<'_>>) -> Result<(), TrainError> {
    let epochs = panels
        .iter()
        .flat_map(|(_, lines)| lines.iter().flat_map(|(_, l, _)| l.iter().map(|p| p.0)))
        .fold(1f64, f64::max);
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
                .build_cartesian_2d(1f64..epochs.max(2.0), lo..hi)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_desc(name)
                .draw()
                .map_err(|e| e.to_string())?;
            for (label, points, color) in lines {
                if points.is_empty() {
                    continue;
                }
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
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
        chart
            .draw_series(
                map.points
                    .iter()
                    .map(|&(x, y, t, _)| Circle::new((x, y), 4, colors[t.min(1)].filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                map.points
                    .iter()
                    .filter(|p| p.2 != p.3)
                    .map(|&(x, y, _, _)| Circle::new((x, y), 8, BLACK.stroke_width(2))),
            )
            .map_err(|e| e.to_string())?;
        Ok(())
    })
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

/// One panel of [`grouped_bars`]: its y-axis name and, per series, one value per group
/// (`None`: no bar).
pub type BarPanel<'a> = (&'a str, Vec<(&'a str, Vec<Option<f64>>)>);

/// Panels stacked vertically, each a bar chart with one cluster per group (e.g. a model) and one
/// coloured bar per series (e.g. a backend) on a log₁₀ y-axis (throughputs span decades), the
/// value written above each bar.
pub fn grouped_bars(
    path: &Path,
    title: &str,
    groups: &[&str],
    panels: Vec<BarPanel<'_>>,
) -> Result<(), TrainError> {
    const COLORS: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let width = (160 * groups.len().max(1) as u32).max(640);
    png(path, (width, 380 * panels.len().max(1) as u32), |root| {
        let root = root
            .titled(title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len().max(1), 1));
        for (area, (name, series)) in areas.iter().zip(panels) {
            let values = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
            let (lo, hi) = values
                .filter(|v| v.is_finite() && *v > 0.0)
                .fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if hi > 0.0 {
                (lo / 2.0, hi * 4.0)
            } else {
                (0.1, 10.0)
            };
            let n = series.len().max(1) as f64;
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..groups.len() as f64, (lo..hi).log_scale())
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(groups.len() * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.floor() as usize;
                    if (x - i as f64 - 0.5).abs() < 1e-6 {
                        groups.get(i).map(|g| g.to_string()).unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_desc(name)
                .y_label_formatter(&|y| format!("{y:.0}"))
                .draw()
                .map_err(|e| e.to_string())?;
            for (k, (label, values)) in series.iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                let bars = values.iter().enumerate().filter_map(|(g, v)| {
                    let v = v.filter(|v| v.is_finite() && *v > 0.0)?;
                    let x0 = g as f64 + 0.1 + 0.8 * k as f64 / n;
                    Some((x0, x0 + 0.8 / n, v))
                });
                let bars: Vec<_> = bars.collect();
                chart
                    .draw_series(
                        bars.iter().map(|&(x0, x1, v)| {
                            Rectangle::new([(x0, lo), (x1, v)], color.filled())
                        }),
                    )
                    .map_err(|e| e.to_string())?
                    .label(*label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                    });
                chart
                    .draw_series(bars.iter().map(|&(x0, _, v)| {
                        Text::new(format!("{v:.0}"), (x0, v * 1.15), ("sans-serif", 11))
                    }))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
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
