//! A grid of grey-scale images with a label under each (digits, filters, saliency maps).
//!
//! Each image is scaled to `[0, 1]` by its own minimum and maximum and drawn dark-on-white
//! (`grey = 255 · (1 − t)`), enlarged by nearest-neighbour sampling.

use crate::plot::{Content, FONT, Figure};
use crate::tensor::Tensor;
use ndarray::{Array2, Axis, Ix2};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const TITLE_H: u32 = 36;
const LABEL_H: u32 = 20;
const PAD: u32 = 6;

/// Images `[n, h, w]` or `[n, 1, h, w]` in a grid of `cols` columns, `labels[i]` under image `i`
/// (fewer labels than images is fine).
///
/// **Panics** naming the shape if `images` is not `[n, h, w]` or `[n, 1, h, w]`.
///
/// ```
/// use dl_core::prelude::*;
/// let images = dl_core::init::uniform(&[6, 8, 8], 0.0, 1.0);
/// let fig = plot::image_grid("Noise", &images, &["a", "b", "c", "d", "e", "f"], 3);
/// assert_eq!(&fig.to_png().unwrap()[1..4], b"PNG");
/// ```
#[track_caller]
pub fn image_grid(title: &str, images: &Tensor, labels: &[impl AsRef<str>], cols: usize) -> Figure {
    let images3 = match images.ndim() {
        3 => images.clone(),
        4 if images.shape()[1] == 1 => images.index_axis(Axis(1), 0).to_owned(),
        _ => panic!(
            "image_grid: expected images of shape [n, h, w] or [n, 1, h, w], got {:?}",
            images.shape()
        ),
    };
    let list: Vec<Array2<f32>> = images3
        .outer_iter()
        .map(|im| {
            im.to_owned()
                .into_dimensionality::<Ix2>()
                .expect("2-D image")
        })
        .collect();
    let n = list.len();
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols).max(1);
    let side = (720 / cols as u32).clamp(48, 160);
    let width = cols as u32 * (side + PAD) + PAD;
    let height = TITLE_H + rows as u32 * (side + LABEL_H + PAD) + PAD;
    Figure::with_content(
        title,
        Content::Images {
            images: list,
            labels: labels.iter().map(|s| s.as_ref().to_string()).collect(),
            cols,
        },
    )
    .size(width, height)
}

fn cell_origin(fig: &Figure, index: usize, cols: usize) -> (u32, u32, u32) {
    let side = ((fig.width - PAD) / cols as u32).saturating_sub(PAD).max(1);
    let (r, c) = ((index / cols) as u32, (index % cols) as u32);
    (
        PAD + c * (side + PAD),
        TITLE_H + r * (side + LABEL_H + PAD),
        side,
    )
}

/// Paints the images into an RGB buffer (before plotters draws the text on top).
pub(crate) fn paint_images(fig: &Figure, images: &[Array2<f32>], cols: usize, rgb: &mut [u8]) {
    for (index, image) in images.iter().enumerate() {
        let (x0, y0, side) = cell_origin(fig, index, cols);
        let (h, w) = image.dim();
        if h == 0 || w == 0 {
            continue;
        }
        let lo = image.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = image.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let scale = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
        for py in 0..side {
            for px in 0..side {
                let (x, y) = (x0 + px, y0 + py);
                if x >= fig.width || y >= fig.height {
                    continue;
                }
                let v = image[[
                    (py * h as u32 / side) as usize,
                    (px * w as u32 / side) as usize,
                ]];
                let t = if v.is_finite() {
                    ((v - lo) * scale).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let grey = (255.0 * (1.0 - t)) as u8;
                let i = ((y * fig.width + x) * 3) as usize;
                rgb[i..i + 3].copy_from_slice(&[grey, grey, grey]);
            }
        }
    }
}

/// Draws the title, a frame round each image and the labels (the pixels are painted already).
pub(crate) fn draw_labels<DB: DrawingBackend>(
    fig: &Figure,
    count: usize,
    labels: &[String],
    cols: usize,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let title = TextStyle::from((FONT, 18).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    root.draw(&Text::new(
        fig.title.clone(),
        (fig.width as i32 / 2, 8),
        title,
    ))?;
    let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for index in 0..count {
        let (x0, y0, side) = cell_origin(fig, index, cols);
        let (x0, y0, side) = (x0 as i32, y0 as i32, side as i32);
        root.draw(&Rectangle::new(
            [(x0 - 1, y0 - 1), (x0 + side, y0 + side)],
            RGBColor(190, 190, 190),
        ))?;
        if let Some(label) = labels.get(index) {
            root.draw(&Text::new(
                label.clone(),
                (x0 + side / 2, y0 + side + 3),
                style.clone(),
            ))?;
        }
    }
    Ok(())
}
