//! The filters a pipeline is made of, their parameter ranges, and their
//! query-string form (`grayscale,blur:2,resize:800x600:contain`).

use crate::error::FilterError;

/// How `resize` maps the image onto the requested box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Fit inside the box, keeping the aspect ratio.
    Contain,
    /// Cover the box, keeping the aspect ratio, cropping the overflow evenly.
    Cover,
    /// Stretch to exactly the box.
    Fill,
}

/// A clockwise rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// 90 degrees clockwise.
    Cw90,
    /// 180 degrees.
    Cw180,
    /// 270 degrees clockwise.
    Cw270,
}

/// One filter; a pipeline applies a list of them in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// ITU-R 601-2 luma.
    Grayscale,
    /// Sepia tone.
    Sepia,
    /// Inverted colors.
    Invert,
    /// Adds a delta to every color channel.
    Brightness(i32),
    /// Changes contrast by a percentage.
    Contrast(f32),
    /// Gaussian blur of the given sigma.
    Blur(f32),
    /// Unsharp mask.
    Sharpen {
        /// Gaussian sigma.
        sigma: f32,
        /// Strength.
        amount: f32,
    },
    /// 3x3 Laplacian edge detection.
    EdgeDetect,
    /// 3x3 emboss.
    Emboss,
    /// Clockwise rotation.
    Rotate(Rotation),
    /// Mirror left to right.
    FlipHorizontal,
    /// Mirror top to bottom.
    FlipVertical,
    /// Resize into a box.
    Resize {
        /// Box width.
        width: u32,
        /// Box height.
        height: u32,
        /// Fit mode.
        fit: Fit,
    },
    /// Shrink so the longer side is at most this.
    Thumbnail(u32),
    /// Cut out a rectangle.
    Crop {
        /// Left edge.
        x: u32,
        /// Top edge.
        y: u32,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// Apply the EXIF orientation.
    AutoOrient,
}

/// A parameter of an op, as `GET /image/ops` describes it.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Name.
    pub name: &'static str,
    /// `integer`, `number` or `enum`.
    pub kind: &'static str,
    /// Smallest accepted value (numbers).
    pub min: f64,
    /// Largest accepted value (numbers).
    pub max: f64,
    /// Accepted values (enums).
    pub values: &'static [&'static str],
}

/// An op as the query string spells it.
#[derive(Debug, Clone, Copy)]
pub struct OpSpec {
    /// Name (`blur`).
    pub name: &'static str,
    /// Accepted form (`blur:SIGMA`).
    pub form: &'static str,
    /// An example (`blur:2`).
    pub example: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Parameters, in order.
    pub params: &'static [Param],
}

/// Largest side accepted for `resize` and `thumbnail` (the pixel limit applies too).
pub const MAX_SIDE: u32 = 65_535;

const fn number(name: &'static str, min: f64, max: f64) -> Param {
    Param {
        name,
        kind: "number",
        min,
        max,
        values: &[],
    }
}

const fn integer(name: &'static str, min: f64, max: f64) -> Param {
    Param {
        name,
        kind: "integer",
        min,
        max,
        values: &[],
    }
}

const fn choice(name: &'static str, values: &'static [&'static str]) -> Param {
    Param {
        name,
        kind: "enum",
        min: 0.0,
        max: 0.0,
        values,
    }
}

const SIDE: f64 = MAX_SIDE as f64;
const COORD: f64 = u32::MAX as f64;

/// Every op, in the order documented.
pub const CATALOG: &[OpSpec] = &[
    OpSpec {
        name: "grayscale",
        form: "grayscale",
        example: "grayscale",
        description: "ITU-R 601-2 luma, L = (R*299 + G*587 + B*114) / 1000; alpha kept",
        params: &[],
    },
    OpSpec {
        name: "sepia",
        form: "sepia",
        example: "sepia",
        description: "sepia tone; alpha kept",
        params: &[],
    },
    OpSpec {
        name: "invert",
        form: "invert",
        example: "invert",
        description: "inverts every color channel; alpha kept",
        params: &[],
    },
    OpSpec {
        name: "brightness",
        form: "brightness:DELTA",
        example: "brightness:40",
        description: "adds DELTA to every color channel, clamped",
        params: &[integer("delta", -255.0, 255.0)],
    },
    OpSpec {
        name: "contrast",
        form: "contrast:AMOUNT",
        example: "contrast:25",
        description: "changes contrast by AMOUNT percent (negative lowers it)",
        params: &[number("amount", -100.0, 100.0)],
    },
    OpSpec {
        name: "blur",
        form: "blur:SIGMA",
        example: "blur:2",
        description: "Gaussian blur of standard deviation SIGMA pixels, edges clamped",
        params: &[number("sigma", 0.1, 50.0)],
    },
    OpSpec {
        name: "sharpen",
        form: "sharpen:SIGMA:AMOUNT",
        example: "sharpen:1.5:0.8",
        description: "unsharp mask: in + AMOUNT * (in - blur(in, SIGMA))",
        params: &[number("sigma", 0.1, 50.0), number("amount", 0.0, 10.0)],
    },
    OpSpec {
        name: "edge-detect",
        form: "edge-detect",
        example: "edge-detect",
        description: "3x3 Laplacian edge detection",
        params: &[],
    },
    OpSpec {
        name: "emboss",
        form: "emboss",
        example: "emboss",
        description: "3x3 emboss",
        params: &[],
    },
    OpSpec {
        name: "rotate",
        form: "rotate:DEGREES",
        example: "rotate:90",
        description: "rotates clockwise",
        params: &[choice("degrees", &["90", "180", "270"])],
    },
    OpSpec {
        name: "flip-horizontal",
        form: "flip-horizontal",
        example: "flip-horizontal",
        description: "mirrors left to right",
        params: &[],
    },
    OpSpec {
        name: "flip-vertical",
        form: "flip-vertical",
        example: "flip-vertical",
        description: "mirrors top to bottom",
        params: &[],
    },
    OpSpec {
        name: "resize",
        form: "resize:WIDTHxHEIGHT[:FIT]",
        example: "resize:800x600:contain",
        description: "Catmull-Rom resize into a box; FIT is contain (default, keep ratio inside), cover (keep ratio, crop overflow) or fill (stretch)",
        params: &[
            integer("width", 1.0, SIDE),
            integer("height", 1.0, SIDE),
            choice("fit", &["contain", "cover", "fill"]),
        ],
    },
    OpSpec {
        name: "thumbnail",
        form: "thumbnail:MAXSIDE",
        example: "thumbnail:256",
        description: "shrinks so the longer side is at most MAXSIDE; never enlarges",
        params: &[integer("max-side", 1.0, SIDE)],
    },
    OpSpec {
        name: "crop",
        form: "crop:X:Y:WIDTHxHEIGHT",
        example: "crop:10:20:300x200",
        description: "cuts out a rectangle that must lie inside the image",
        params: &[
            integer("x", 0.0, COORD),
            integer("y", 0.0, COORD),
            integer("width", 1.0, COORD),
            integer("height", 1.0, COORD),
        ],
    },
    OpSpec {
        name: "auto-orient",
        form: "auto-orient",
        example: "auto-orient",
        description: "applies the EXIF orientation of the input",
        params: &[],
    },
];

impl Op {
    /// The catalog entry of this op.
    pub fn spec(&self) -> &'static OpSpec {
        let name = match self {
            Op::Grayscale => "grayscale",
            Op::Sepia => "sepia",
            Op::Invert => "invert",
            Op::Brightness(_) => "brightness",
            Op::Contrast(_) => "contrast",
            Op::Blur(_) => "blur",
            Op::Sharpen { .. } => "sharpen",
            Op::EdgeDetect => "edge-detect",
            Op::Emboss => "emboss",
            Op::Rotate(_) => "rotate",
            Op::FlipHorizontal => "flip-horizontal",
            Op::FlipVertical => "flip-vertical",
            Op::Resize { .. } => "resize",
            Op::Thumbnail(_) => "thumbnail",
            Op::Crop { .. } => "crop",
            Op::AutoOrient => "auto-orient",
        };
        CATALOG
            .iter()
            .find(|s| s.name == name)
            .unwrap_or(&CATALOG[0])
    }

    /// Checks every parameter against its range (the typed interface calls
    /// this too, so both faces accept exactly the same ops).
    pub fn validate(&self) -> Result<(), FilterError> {
        let spec = self.spec();
        let values: Vec<f64> = match *self {
            Op::Brightness(d) => vec![f64::from(d)],
            Op::Contrast(a) | Op::Blur(a) => vec![f64::from(a)],
            Op::Sharpen { sigma, amount } => vec![f64::from(sigma), f64::from(amount)],
            Op::Resize { width, height, .. } => vec![f64::from(width), f64::from(height)],
            Op::Thumbnail(side) => vec![f64::from(side)],
            Op::Crop {
                x,
                y,
                width,
                height,
            } => vec![
                f64::from(x),
                f64::from(y),
                f64::from(width),
                f64::from(height),
            ],
            _ => Vec::new(),
        };
        for (value, param) in values.iter().zip(spec.params) {
            if !(param.min..=param.max).contains(value) {
                return Err(invalid(
                    spec,
                    &format!(
                        "{} must be {} {}..={}, got {value}",
                        param.name,
                        if param.kind == "integer" {
                            "an integer in"
                        } else {
                            "a number in"
                        },
                        param.min,
                        param.max
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Parses one op from its query form (`blur:2`), validated.
    pub fn parse(text: &str) -> Result<Op, FilterError> {
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default().trim();
        let args: Vec<&str> = parts.map(str::trim).collect();
        let Some(spec) = CATALOG.iter().find(|s| s.name == name) else {
            let known: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
            return Err(FilterError::InvalidOp(format!(
                "unknown op `{name}`: known ops are {}",
                known.join(", ")
            )));
        };
        let wrong = |what: &str| invalid(spec, &format!("`{text}`: {what}"));
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(wrong(&format!(
                    "expected {n} parameter(s), got {}",
                    args.len()
                )))
            }
        };
        let int = |s: &str, what: &str| {
            s.parse::<i64>()
                .map_err(|_| wrong(&format!("{what} `{s}` is not an integer")))
        };
        let uint = |s: &str, what: &str| {
            s.parse::<u32>()
                .map_err(|_| wrong(&format!("{what} `{s}` is not a non-negative integer")))
        };
        let num = |s: &str, what: &str| {
            s.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| wrong(&format!("{what} `{s}` is not a number")))
        };
        let size = |s: &str| -> Result<(u32, u32), FilterError> {
            let (w, h) = s
                .split_once(['x', 'X'])
                .ok_or_else(|| wrong(&format!("size `{s}` is not WIDTHxHEIGHT")))?;
            Ok((uint(w, "width")?, uint(h, "height")?))
        };
        let op = match spec.name {
            "grayscale" => arity(0).map(|()| Op::Grayscale)?,
            "sepia" => arity(0).map(|()| Op::Sepia)?,
            "invert" => arity(0).map(|()| Op::Invert)?,
            "edge-detect" => arity(0).map(|()| Op::EdgeDetect)?,
            "emboss" => arity(0).map(|()| Op::Emboss)?,
            "flip-horizontal" => arity(0).map(|()| Op::FlipHorizontal)?,
            "flip-vertical" => arity(0).map(|()| Op::FlipVertical)?,
            "auto-orient" => arity(0).map(|()| Op::AutoOrient)?,
            "brightness" => {
                arity(1)?;
                let delta = int(args[0], "delta")?;
                Op::Brightness(delta.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
            }
            "contrast" => {
                arity(1)?;
                Op::Contrast(num(args[0], "amount")?)
            }
            "blur" => {
                arity(1)?;
                Op::Blur(num(args[0], "sigma")?)
            }
            "sharpen" => {
                arity(2)?;
                Op::Sharpen {
                    sigma: num(args[0], "sigma")?,
                    amount: num(args[1], "amount")?,
                }
            }
            "rotate" => {
                arity(1)?;
                Op::Rotate(match args[0] {
                    "90" => Rotation::Cw90,
                    "180" => Rotation::Cw180,
                    "270" => Rotation::Cw270,
                    other => {
                        return Err(wrong(&format!("degrees `{other}` is not 90, 180 or 270")));
                    }
                })
            }
            "resize" => {
                if !(1..=2).contains(&args.len()) {
                    return Err(wrong(&format!(
                        "expected 1 or 2 parameters, got {}",
                        args.len()
                    )));
                }
                let (width, height) = size(args[0])?;
                let fit = match args.get(1).copied().unwrap_or("contain") {
                    "contain" => Fit::Contain,
                    "cover" => Fit::Cover,
                    "fill" => Fit::Fill,
                    other => {
                        return Err(wrong(&format!(
                            "fit `{other}` is not contain, cover or fill"
                        )));
                    }
                };
                Op::Resize { width, height, fit }
            }
            "thumbnail" => {
                arity(1)?;
                Op::Thumbnail(uint(args[0], "max-side")?)
            }
            "crop" => {
                arity(3)?;
                let (width, height) = size(args[2])?;
                Op::Crop {
                    x: uint(args[0], "x")?,
                    y: uint(args[1], "y")?,
                    width,
                    height,
                }
            }
            _ => unreachable!("every catalog entry is parsed"),
        };
        op.validate()?;
        Ok(op)
    }

    /// Parses a comma-separated pipeline (`grayscale,blur:2`); empty items are skipped.
    pub fn parse_list(text: &str) -> Result<Vec<Op>, FilterError> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Op::parse)
            .collect()
    }
}

fn invalid(spec: &OpSpec, what: &str) -> FilterError {
    FilterError::InvalidOp(format!(
        "invalid op {}: {what} (form: {}, e.g. {})",
        spec.name, spec.form, spec.example
    ))
}

/// The catalog as JSON, for `GET /image/ops` (a web form is built from it).
pub fn catalog_json() -> serde_json::Value {
    let ops: Vec<serde_json::Value> = CATALOG
        .iter()
        .map(|spec| {
            let params: Vec<serde_json::Value> = spec
                .params
                .iter()
                .map(|p| {
                    if p.kind == "enum" {
                        serde_json::json!({ "name": p.name, "type": p.kind, "values": p.values })
                    } else {
                        serde_json::json!({ "name": p.name, "type": p.kind, "min": p.min, "max": p.max })
                    }
                })
                .collect();
            serde_json::json!({
                "name": spec.name,
                "form": spec.form,
                "example": spec.example,
                "description": spec.description,
                "params": params,
            })
        })
        .collect();
    serde_json::json!({ "ops": ops })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_example_parses_to_its_op() {
        for spec in CATALOG {
            let op = Op::parse(spec.example).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(op.spec().name, spec.name);
        }
    }

    #[test]
    fn pipeline_parses_in_order() {
        let ops = Op::parse_list("grayscale, blur:2,resize:800x600:contain,,crop:1:2:3x4").unwrap();
        assert_eq!(
            ops,
            vec![
                Op::Grayscale,
                Op::Blur(2.0),
                Op::Resize {
                    width: 800,
                    height: 600,
                    fit: Fit::Contain
                },
                Op::Crop {
                    x: 1,
                    y: 2,
                    width: 3,
                    height: 4
                },
            ]
        );
        assert_eq!(
            Op::parse("resize:10x20").unwrap(),
            Op::Resize {
                width: 10,
                height: 20,
                fit: Fit::Contain
            }
        );
    }

    #[test]
    fn bad_ops_name_the_op_and_the_accepted_form() {
        let cases = [
            ("sparkle", "unknown op `sparkle`"),
            ("blur", "blur: `blur`: expected 1 parameter(s), got 0"),
            ("blur:abc", "sigma `abc` is not a number"),
            ("blur:0", "sigma must be a number in 0.1..=50, got 0"),
            ("blur:NaN", "is not a number"),
            (
                "brightness:300",
                "delta must be an integer in -255..=255, got 300",
            ),
            ("rotate:45", "degrees `45` is not 90, 180 or 270"),
            ("resize:800", "size `800` is not WIDTHxHEIGHT"),
            (
                "resize:0x10",
                "width must be an integer in 1..=65535, got 0",
            ),
            (
                "resize:10x10:stretch",
                "fit `stretch` is not contain, cover or fill",
            ),
            ("crop:1:2:0x4", "width must be an integer in 1..="),
            ("grayscale:1", "expected 0 parameter(s), got 1"),
        ];
        for (text, expected) in cases {
            let err = Op::parse(text).unwrap_err();
            assert!(matches!(err, FilterError::InvalidOp(_)), "{text}");
            let message = err.to_string();
            assert!(message.contains(expected), "{text}: {message}");
            if !text.starts_with("sparkle") {
                assert!(message.contains("(form: "), "{text}: {message}");
            }
        }
    }

    #[test]
    fn catalog_json_lists_every_op_with_ranges() {
        let json = catalog_json();
        let ops = json["ops"].as_array().unwrap();
        assert_eq!(ops.len(), CATALOG.len());
        let blur = ops.iter().find(|o| o["name"] == "blur").unwrap();
        assert_eq!(blur["params"][0]["min"], 0.1);
        assert_eq!(blur["params"][0]["max"], 50.0);
        let resize = ops.iter().find(|o| o["name"] == "resize").unwrap();
        assert_eq!(resize["params"][2]["values"][1], "cover");
    }
}
