//! Figures drawn with plotters, rendered to PNG and SVG, shown inline or saved to a file.
//!
//! A [`Figure`] is a description (series, heat-map values, images); rendering happens when it
//! is shown or saved. Text uses the bundled DejaVu Sans font (registered with plotters'
//! `ab_glyph` backend), so no system font is needed; plotters' `ttf` feature must stay off.
//!
//! Notebooks show PNG (SVG is not rendered in untrusted notebooks), with SVG beside it.

mod decision_boundary;
mod fit_line;
mod heatmap;
mod histogram;
mod image_grid;
mod line;
mod scatter;
mod xy;

pub use decision_boundary::decision_boundary;
pub use fit_line::fit_line;
pub use heatmap::{confusion_matrix, diverging_heatmap, heatmap};
pub use histogram::histogram;
pub use image_grid::image_grid;
pub use line::line;
pub use scatter::scatter;

use crate::display::{MimeBundle, Show};
use crate::error::{DlError, Result};
use ndarray::Array2;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The font family name every figure uses.
pub(crate) const FONT: &str = "sans-serif";

/// Registers the bundled DejaVu Sans with plotters (once per process).
pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Ten distinguishable colours (matplotlib's "tab10").
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How one series is drawn.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SeriesStyle {
    Line,
    Points,
    /// Bars from y = 0, each `width` wide, centred on x.
    Bars {
        width: f32,
    },
}

/// One named data series of an x–y chart.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub name: String,
    pub style: SeriesStyle,
    pub xs: Vec<f32>,
    pub ys: Vec<f32>,
    pub color: usize,
}

/// Class regions behind an x–y chart (decision boundaries): `classes[row][col]` over a grid.
#[derive(Clone, Debug)]
pub(crate) struct Regions {
    pub x_range: (f32, f32),
    pub y_range: (f32, f32),
    pub classes: Array2<usize>,
}

#[derive(Clone, Debug)]
pub(crate) enum Content {
    Xy {
        series: Vec<Series>,
        regions: Option<Regions>,
    },
    Heatmap {
        values: Array2<f32>,
        row_labels: Vec<String>,
        col_labels: Vec<String>,
        /// Signed values on a scale centred at zero (see [`diverging_heatmap`]).
        diverging: bool,
    },
    Images {
        images: Vec<Array2<f32>>,
        labels: Vec<String>,
        cols: usize,
    },
    Panels {
        figures: Vec<Figure>,
        cols: usize,
    },
}

/// A figure: build it with the chart functions ([`line()`], [`scatter()`], ...) or
/// [`Figure::new`] plus [`Figure::line`] / [`Figure::scatter`], then `show()` or `save(path)`.
///
/// ```
/// use dl_core::prelude::*;
/// let fig = Figure::new("Squares")
///     .x_label("x")
///     .y_label("x²")
///     .line("x²", &[0.0, 1.0, 2.0], &[0.0, 1.0, 4.0])
///     .scatter("samples", &[0.5, 1.5], &[0.3, 2.1]);
/// let png = fig.to_png().unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// assert!(fig.to_svg().unwrap().contains("<svg"));
/// ```
#[derive(Clone, Debug)]
pub struct Figure {
    pub(crate) title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) content: Content,
}

impl Figure {
    /// An empty x–y figure with a title (640 × 400 pixels).
    pub fn new(title: &str) -> Figure {
        Figure::with_content(
            title,
            Content::Xy {
                series: Vec::new(),
                regions: None,
            },
        )
    }

    pub(crate) fn with_content(title: &str, content: Content) -> Figure {
        Figure {
            title: title.to_string(),
            x_label: String::new(),
            y_label: String::new(),
            width: 640,
            height: 400,
            content,
        }
    }

    /// Sets the x-axis label.
    pub fn x_label(mut self, label: &str) -> Figure {
        self.x_label = label.to_string();
        self
    }

    /// Sets the y-axis label.
    pub fn y_label(mut self, label: &str) -> Figure {
        self.y_label = label.to_string();
        self
    }

    /// Sets the size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Figure {
        self.width = width.max(50);
        self.height = height.max(50);
        self
    }

    pub(crate) fn push_series(
        mut self,
        name: &str,
        style: SeriesStyle,
        xs: &[f32],
        ys: &[f32],
    ) -> Figure {
        assert_eq!(
            xs.len(),
            ys.len(),
            "Figure: series {name:?} has {} x values but {} y values",
            xs.len(),
            ys.len()
        );
        if let Content::Xy { series, .. } = &mut self.content {
            let color = series.len() % PALETTE.len();
            series.push(Series {
                name: name.to_string(),
                style,
                xs: xs.to_vec(),
                ys: ys.to_vec(),
                color,
            });
        } else {
            panic!("Figure: cannot add an x–y series {name:?} to a heat map or image grid");
        }
        self
    }

    /// Adds a line series (legend entry `name`; an empty name has no legend entry).
    ///
    /// **Panics** if `xs` and `ys` differ in length.
    #[track_caller]
    pub fn line(self, name: &str, xs: &[f32], ys: &[f32]) -> Figure {
        self.push_series(name, SeriesStyle::Line, xs, ys)
    }

    /// Adds a series of points.
    ///
    /// **Panics** if `xs` and `ys` differ in length.
    #[track_caller]
    pub fn scatter(self, name: &str, xs: &[f32], ys: &[f32]) -> Figure {
        self.push_series(name, SeriesStyle::Points, xs, ys)
    }

    /// Figures side by side in a grid of `cols` columns (e.g. loss and accuracy curves).
    ///
    /// **Panics** if a figure is an image grid (its pixels cannot be placed in a panel).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let loss = plot::line("loss", &[("train", &[1.0, 0.5])]);
    /// let accuracy = plot::line("accuracy", &[("train", &[0.6, 0.9])]);
    /// let both = Figure::panels(vec![loss, accuracy], 2);
    /// assert!(both.to_png().is_ok());
    /// ```
    #[track_caller]
    pub fn panels(figures: Vec<Figure>, cols: usize) -> Figure {
        assert!(
            figures
                .iter()
                .all(|f| !matches!(f.content, Content::Images { .. })),
            "Figure::panels: image grids cannot be placed in panels"
        );
        let cols = cols.clamp(1, figures.len().max(1));
        let rows = figures.len().div_ceil(cols).max(1);
        let w = figures.iter().map(|f| f.width).max().unwrap_or(640);
        let h = figures.iter().map(|f| f.height).max().unwrap_or(400);
        let figures: Vec<Figure> = figures.into_iter().map(|f| f.size(w, h)).collect();
        Figure::with_content("", Content::Panels { figures, cols })
            .size(w * cols as u32, h * rows as u32)
    }

    fn draw_content<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<()> {
        let plot_err = |e: DrawingAreaErrorKind<DB::ErrorType>| DlError::Plot(e.to_string());
        match &self.content {
            Content::Xy { series, regions } => {
                xy::draw_xy(self, series, regions.as_ref(), root).map_err(plot_err)
            }
            Content::Heatmap {
                values,
                row_labels,
                col_labels,
                diverging,
            } => heatmap::draw_heatmap(self, values, row_labels, col_labels, *diverging, root)
                .map_err(plot_err),
            Content::Images {
                images,
                labels,
                cols,
            } => image_grid::draw_labels(self, images.len(), labels, *cols, root).map_err(plot_err),
            Content::Panels { figures, cols } => {
                root.fill(&WHITE).map_err(plot_err)?;
                let rows = figures.len().div_ceil(*cols).max(1);
                for (figure, area) in figures.iter().zip(root.split_evenly((rows, *cols))) {
                    figure.draw_content(&area)?;
                }
                Ok(())
            }
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<()> {
        register_fonts();
        self.draw_content(&root)?;
        root.present().map_err(|e| DlError::Plot(e.to_string()))
    }

    /// Renders to an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        if let Content::Images { .. } = self.content {
            // Pixels as <rect>s would be huge: embed the PNG instead.
            let png = self.to_png()?;
            return Ok(format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
                 <image width=\"{w}\" height=\"{h}\" href=\"data:image/png;base64,{}\"/></svg>",
                crate::display::base64_encode(&png),
                w = self.width,
                h = self.height
            ));
        }
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            self.draw(root)?;
        }
        Ok(svg)
    }

    /// Renders to PNG bytes (RGB, 8 bits).
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let (w, h) = (self.width, self.height);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        if let Content::Images { images, cols, .. } = &self.content {
            image_grid::paint_images(self, images, *cols, &mut rgb);
        }
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(root)?;
        }
        crate::data::encode_png(&rgb, w, h, 3).map_err(DlError::Plot)
    }

    /// Saves as PNG or SVG, chosen by the file extension (`.png` or `.svg`).
    ///
    /// ```
    /// use dl_core::prelude::*;
    /// let path = std::env::temp_dir().join("dl_core_doc_figure.svg");
    /// plot::line("loss", &[("train", &[1.0, 0.5, 0.2])]).save(&path).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        let bytes = match ext.as_deref() {
            Some("png") => self.to_png()?,
            Some("svg") => self.to_svg()?.into_bytes(),
            _ => {
                return Err(DlError::format(
                    path,
                    "unknown figure format: use a .png or .svg file name",
                ));
            }
        };
        std::fs::write(path, bytes).map_err(|e| DlError::io(path, e))
    }
}

impl Show for Figure {
    fn mime_bundle(&self) -> MimeBundle {
        let text = format!("<Figure {}x{} \"{}\">", self.width, self.height, self.title);
        let mut bundle = MimeBundle::text(&text);
        match self.to_png() {
            Ok(png) => bundle = bundle.with_png(&png, self.width, self.height),
            Err(e) => return MimeBundle::text(&format!("{text}: {e}")),
        }
        if let Ok(svg) = self.to_svg() {
            bundle = bundle.with_svg(&svg);
        }
        bundle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .unwrap()
            .into_rgb8();
        (image.width(), image.height(), image.into_raw())
    }

    #[test]
    fn a_figure_renders_a_png_of_its_size_with_ink_on_it() {
        let fig = crate::plot::line("t", &[("a", &[1.0, 3.0, 2.0])]).size(300, 200);
        let (w, h, pixels) = decode_png(&fig.to_png().unwrap());
        assert_eq!((w, h), (300, 200));
        let dark = pixels
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 100, "text and axes are drawn ({dark} dark pixels)");
        let coloured = pixels.chunks(3).filter(|p| p[2] > 150 && p[0] < 80).count();
        assert!(coloured > 50, "the blue line is drawn ({coloured} pixels)");
    }

    #[test]
    fn text_is_rendered_with_the_bundled_font() {
        // A title-only figure differs from an untitled one: glyphs reach the bitmap.
        let with_title = Figure::new("Title text").line("", &[0.0, 1.0], &[0.0, 1.0]);
        let without = Figure::new("").line("", &[0.0, 1.0], &[0.0, 1.0]);
        assert_ne!(with_title.to_png().unwrap(), without.to_png().unwrap());
    }

    #[test]
    fn saving_with_an_unknown_extension_is_an_error_naming_the_file() {
        let err = Figure::new("x").save("figure.bmp").unwrap_err();
        assert!(err.to_string().contains("figure.bmp"));
    }

    #[test]
    fn the_image_grid_svg_embeds_the_png() {
        let images = crate::tensor::zeros(&[2, 1, 4, 4]);
        let svg = crate::plot::image_grid("g", &images, &["a", "b"], 2)
            .to_svg()
            .unwrap();
        assert!(svg.contains("data:image/png;base64,"));
    }

    #[test]
    #[should_panic(
        expected = "image_grid: expected images of shape [n, h, w] or [n, 1, h, w], got [2, 3, 4, 4]"
    )]
    fn colour_images_are_refused_with_their_shape() {
        crate::plot::image_grid("g", &crate::tensor::zeros(&[2, 3, 4, 4]), &["a"], 2);
    }
}
