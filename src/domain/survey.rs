//! The coordinators' surveys of facilities: versioned definitions (questions, their types,
//! which field each answer fills, its default visibility), the validation that turns a
//! respondent's answers into a normalized answer set, and the step that fills a facility's
//! services from an approved one.
//!
//! No public source says which opioids a pharmacy stocks, whether a dental clinic visits
//! homes, or whether a clinic stays with a patient at the end of life at home: regions collect
//! it by survey. An answer set is kept with its survey version, respondent, date and source; it
//! changes nothing until a coordinator approves it (or enters it).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::facility::{
    AfterHours, Compounding, Contact, ContactKind, Facility, Origin, Provenance, Service,
    ServiceAttributes, ServiceStatus, SurveyMark, Visibility,
};
use super::formulary::{Drug, Form, FormularyEntry, Product, Scope, Stock};
use super::vocabulary::{FacilityKind, ServiceKind};

/// One choice of a `choice` question.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionType {
    /// `true` or `false`.
    YesNo,
    /// One of `options`, by value.
    Choice { options: &'static [Choice] },
    /// Free text of at most `max_chars` characters.
    Text { max_chars: usize },
    /// A number within `min..=max`.
    Number {
        min: f64,
        max: f64,
        unit: &'static str,
    },
    /// A Japanese phone number.
    Phone,
    /// Opioid formulary lines: `{name | drug+form, strength?, stock, order_days?}`.
    Formulary,
}

/// Ask a question only when an earlier yes/no question was answered `equals`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct When {
    pub question: &'static str,
    pub equals: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Question {
    pub id: &'static str,
    #[serde(flatten)]
    pub kind: QuestionType,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_ja: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_en: Option<&'static str>,
    pub required: bool,
    /// Who may see what the answer fills, unless the respondent opts in to more.
    pub visibility: Visibility,
    /// Which field of the facility the answer fills (for the reviewer and the form).
    pub fills: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
}

/// Which survey: one per kind of facility asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyCode {
    Pharmacy,
    Dental,
    Clinic,
}

impl SurveyCode {
    pub const ALL: &'static [SurveyCode] =
        &[SurveyCode::Pharmacy, SurveyCode::Dental, SurveyCode::Clinic];

    pub fn code(self) -> &'static str {
        match self {
            SurveyCode::Pharmacy => "pharmacy",
            SurveyCode::Dental => "dental",
            SurveyCode::Clinic => "clinic",
        }
    }

    pub fn from_code(s: &str) -> Option<SurveyCode> {
        SurveyCode::ALL.iter().copied().find(|c| c.code() == s)
    }

    /// The survey a facility of `kind` is asked, if any.
    pub fn for_kind(kind: FacilityKind) -> Option<SurveyCode> {
        match kind {
            FacilityKind::Pharmacy => Some(SurveyCode::Pharmacy),
            FacilityKind::DentalClinic => Some(SurveyCode::Dental),
            FacilityKind::Clinic | FacilityKind::Hospital => Some(SurveyCode::Clinic),
            _ => None,
        }
    }
}

/// One version of a survey's definition. A version, once answered, never changes: a changed
/// question is a new version, and answer sets keep the version they answered.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Survey {
    pub code: SurveyCode,
    pub version: u32,
    pub title_ja: &'static str,
    pub title_en: &'static str,
    /// Who is asked.
    pub kinds: &'static [FacilityKind],
    pub questions: &'static [Question],
}

impl Survey {
    /// The current version of `code`.
    pub fn current(code: SurveyCode) -> &'static Survey {
        SURVEYS
            .iter()
            .filter(|s| s.code == code)
            .max_by_key(|s| s.version)
            .expect("every survey code has a definition")
    }

    /// `code` at `version`.
    pub fn get(code: SurveyCode, version: u32) -> Option<&'static Survey> {
        SURVEYS
            .iter()
            .find(|s| s.code == code && s.version == version)
    }

    pub fn question(&self, id: &str) -> Option<&'static Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// `pharmacy@1`: how an answer set names its definition in provenance.
    pub fn key(&self) -> String {
        format!("{}@{}", self.code.code(), self.version)
    }
}

const fn q(
    id: &'static str,
    kind: QuestionType,
    label_ja: &'static str,
    label_en: &'static str,
    visibility: Visibility,
    fills: &'static str,
) -> Question {
    Question {
        id,
        kind,
        label_ja,
        label_en,
        help_ja: None,
        help_en: None,
        required: false,
        visibility,
        fills,
        when: None,
    }
}

const fn required(mut q: Question) -> Question {
    q.required = true;
    q
}

const fn when(mut q: Question, question: &'static str, equals: bool) -> Question {
    q.when = Some(When { question, equals });
    q
}

const fn help(mut q: Question, ja: &'static str, en: &'static str) -> Question {
    q.help_ja = Some(ja);
    q.help_en = Some(en);
    q
}

use QuestionType::{Formulary as FormularyQ, Number, Phone, Text, YesNo};
use Visibility::{Professional as Pro, Public as Pub};

const RADIUS: QuestionType = Number {
    min: 0.5,
    max: 16.0,
    unit: "km",
};
const NOTE: QuestionType = Text { max_chars: 1000 };
const SHORT: QuestionType = Text { max_chars: 300 };

const COMPOUNDING: &[Choice] = &[
    Choice {
        value: "own",
        label_ja: "自局のクリーンベンチ等で行う",
        label_en: "In our own clean bench",
    },
    Choice {
        value: "shared",
        label_ja: "共同利用の無菌調剤室で行う",
        label_en: "In a shared aseptic room",
    },
    Choice {
        value: "none",
        label_ja: "行っていない",
        label_en: "Not done",
    },
];

const AFTER_HOURS: Question = q(
    "after_hours",
    YesNo,
    "時間外（夜間・休日）に連絡がつきますか",
    "Can you be reached after hours (nights, holidays)?",
    Pub,
    "after_hours",
);
const AFTER_HOURS_PHONE: Question = when(
    help(
        q(
            "after_hours_phone",
            Phone,
            "時間外の連絡先電話番号",
            "After-hours phone number",
            Pro,
            "contacts (label 時間外)",
        ),
        "医療・介護職にのみ表示されます。",
        "Shown to professionals only.",
    ),
    "after_hours",
    true,
);
const NOTE_Q: Question = help(
    q(
        "note",
        NOTE,
        "調整担当者への連絡事項",
        "A note to the coordinator",
        Visibility::Internal,
        "none (kept with the answers)",
    ),
    "公開されません。",
    "Not published.",
);

const PHARMACY_V1: &[Question] = &[
    required(q(
        "narcotics_licence",
        YesNo,
        "麻薬小売業者の免許がありますか",
        "Do you hold a narcotics retailer licence?",
        Pub,
        "services.opioid_dispensing",
    )),
    when(
        help(
            q(
                "formulary",
                FormularyQ,
                "医療用麻薬の在庫（薬剤・剤形・規格ごと）",
                "Opioids stocked (per drug, form and strength)",
                Pro,
                "services.opioid_dispensing.formulary",
            ),
            "商品名で入力しても一般名・剤形に変換されます（例: フェントステープ → フェンタニル 貼付剤（1日用））。",
            "Brand names are normalized to drug and form (e.g. フェントステープ → fentanyl 1-day patch).",
        ),
        "narcotics_licence",
        true,
    ),
    when(
        q(
            "formulary_public",
            YesNo,
            "在庫の一覧を一般の方にも公開してよいですか",
            "May the public see the stock list?",
            Pub,
            "services.opioid_dispensing.formulary_visibility",
        ),
        "narcotics_licence",
        true,
    ),
    required(q(
        "home_visits",
        YesNo,
        "訪問薬剤管理指導（在宅患者訪問）を行っていますか",
        "Do you visit patients at home (訪問薬剤管理指導)?",
        Pub,
        "services.home_medication_management",
    )),
    when(
        q(
            "service_radius_km",
            RADIUS,
            "訪問できる範囲（半径 km）",
            "How far you visit (radius, km)",
            Pub,
            "services.home_medication_management.radius_km",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "service_area_note",
            SHORT,
            "訪問できる地域（市町村など）",
            "Where you visit (municipalities, …)",
            Pub,
            "services.home_medication_management.notes",
        ),
        "home_visits",
        true,
    ),
    q(
        "aseptic_compounding",
        QuestionType::Choice {
            options: COMPOUNDING,
        },
        "無菌製剤（注射薬の混合）",
        "Aseptic compounding (mixing injections)",
        Pub,
        "services.aseptic_compounding",
    ),
    when(
        q(
            "pca_pump",
            YesNo,
            "PCAポンプの対応ができますか",
            "Do you support PCA pumps?",
            Pub,
            "services.opioid_dispensing.pca_pump",
        ),
        "narcotics_licence",
        true,
    ),
    when(
        q(
            "subcutaneous_infusion",
            YesNo,
            "持続皮下注射の対応ができますか",
            "Do you support continuous subcutaneous infusion?",
            Pub,
            "services.opioid_dispensing.subcutaneous_infusion",
        ),
        "narcotics_licence",
        true,
    ),
    when(
        q(
            "take_back",
            YesNo,
            "使わなくなった麻薬の回収を受けますか",
            "Do you take back unused narcotics?",
            Pub,
            "services.opioid_dispensing.take_back",
        ),
        "narcotics_licence",
        true,
    ),
    AFTER_HOURS,
    AFTER_HOURS_PHONE,
    NOTE_Q,
];

const DENTAL_V1: &[Question] = &[
    required(q(
        "home_visits",
        YesNo,
        "訪問歯科診療（口腔ケアを含む）を行っていますか",
        "Do you visit homes for dental and oral care?",
        Pub,
        "services.home_visit_dental",
    )),
    when(
        q(
            "service_radius_km",
            RADIUS,
            "訪問できる範囲（半径 km）",
            "How far you visit (radius, km)",
            Pub,
            "services.home_visit_dental.radius_km",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "service_area_note",
            SHORT,
            "訪問できる地域（市町村など）",
            "Where you visit (municipalities, …)",
            Pub,
            "services.home_visit_dental.notes",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "conditions",
            SHORT,
            "訪問の条件（対象の方、依頼の方法など）",
            "Conditions (who, how to ask)",
            Pub,
            "services.home_visit_dental.conditions",
        ),
        "home_visits",
        true,
    ),
    AFTER_HOURS,
    AFTER_HOURS_PHONE,
    NOTE_Q,
];

const CLINIC_V1: &[Question] = &[
    required(q(
        "home_visits",
        YesNo,
        "訪問診療を行っていますか",
        "Do you make home visits?",
        Pub,
        "services.home_visits",
    )),
    when(
        q(
            "specialty",
            SHORT,
            "専門・得意な領域（例: 緩和ケア、がん、神経難病）",
            "Specialty (e.g. palliative care, cancer)",
            Pub,
            "services.home_visits.specialty",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "service_radius_km",
            RADIUS,
            "訪問できる範囲（半径 km）",
            "How far you visit (radius, km)",
            Pub,
            "services.home_visits.radius_km",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "end_of_life_care",
            YesNo,
            "在宅での看取りに対応しますか",
            "Do you care for patients dying at home?",
            Pub,
            "services.home_visits.end_of_life_care",
        ),
        "home_visits",
        true,
    ),
    when(
        q(
            "palliative_sedation",
            YesNo,
            "在宅での鎮静（苦痛緩和のための鎮静）に対応しますか",
            "Do you provide palliative sedation at home?",
            Pub,
            "services.home_visits.palliative_sedation",
        ),
        "home_visits",
        true,
    ),
    AFTER_HOURS,
    AFTER_HOURS_PHONE,
    NOTE_Q,
];

/// Every version of every survey.
pub static SURVEYS: &[Survey] = &[
    Survey {
        code: SurveyCode::Pharmacy,
        version: 1,
        title_ja: "薬局調査（医療用麻薬・在宅対応）",
        title_en: "Pharmacy survey (opioids, home care)",
        kinds: &[FacilityKind::Pharmacy],
        questions: PHARMACY_V1,
    },
    Survey {
        code: SurveyCode::Dental,
        version: 1,
        title_ja: "歯科診療所調査（訪問歯科）",
        title_en: "Dental clinic survey (home visits)",
        kinds: &[FacilityKind::DentalClinic],
        questions: DENTAL_V1,
    },
    Survey {
        code: SurveyCode::Clinic,
        version: 1,
        title_ja: "診療所・病院調査（訪問診療・在宅緩和ケア）",
        title_en: "Clinic survey (home visits, palliative care at home)",
        kinds: &[FacilityKind::Clinic, FacilityKind::Hospital],
        questions: CLINIC_V1,
    },
];

/// What is wrong with an answer, and where (`formulary[1].name`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AnswerError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> AnswerError {
    AnswerError {
        field: field.into(),
        message: message.into(),
    }
}

/// A validated answer set: question id → normalized answer (formulary lines carry `drug` and
/// `form`, and the `name` typed when a brand was given).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers(pub BTreeMap<String, Value>);

impl Answers {
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone().into_iter().collect())
    }
    fn bool(&self, id: &str) -> Option<bool> {
        self.0.get(id).and_then(Value::as_bool)
    }
    fn str(&self, id: &str) -> Option<&str> {
        self.0.get(id).and_then(Value::as_str)
    }
    fn num(&self, id: &str) -> Option<f64> {
        self.0.get(id).and_then(Value::as_f64)
    }
}

/// At most this many formulary lines in one answer.
pub const MAX_FORMULARY_LINES: usize = 60;

/// Check `answers` (a JSON object) against `survey`: every id a question of it, every value of
/// its type, required ones present, conditional ones only when their condition holds; brand
/// names normalized to drug × form.
pub fn validate(survey: &Survey, answers: &Value) -> Result<Answers, AnswerError> {
    let Value::Object(given) = answers else {
        return Err(err(
            "answers",
            "`answers` must be an object of question id → answer.",
        ));
    };
    for id in given.keys() {
        if survey.question(id).is_none() {
            let ids: Vec<&str> = survey.questions.iter().map(|q| q.id).collect();
            return Err(err(
                id.clone(),
                format!(
                    "`{id}` is not a question of survey {}. Questions: {}.",
                    survey.key(),
                    ids.join(", ")
                ),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for q in survey.questions {
        let v = given.get(q.id).filter(|v| !v.is_null());
        let asked = q
            .when
            .is_none_or(|w| given.get(w.question).and_then(Value::as_bool) == Some(w.equals));
        let Some(v) = v else {
            if q.required {
                return Err(err(
                    q.id,
                    format!("回答が必要です: {} / `{}` is required.", q.label_ja, q.id),
                ));
            }
            continue;
        };
        if !asked {
            let w = q.when.expect("unasked questions have a condition");
            return Err(err(
                q.id,
                format!(
                    "`{}` is asked only when `{}` is {}; leave it out or change `{}`.",
                    q.id, w.question, w.equals, w.question
                ),
            ));
        }
        out.insert(q.id.to_string(), answer(q, v)?);
    }
    Ok(Answers(out))
}

fn answer(q: &Question, v: &Value) -> Result<Value, AnswerError> {
    let id = q.id;
    match q.kind {
        QuestionType::YesNo => v.as_bool().map(Value::Bool).ok_or_else(|| {
            err(
                id,
                format!("はい・いいえで答えてください / `{id}` is yes/no: send true or false."),
            )
        }),
        QuestionType::Choice { options } => {
            let s = v.as_str().unwrap_or_default();
            if options.iter().any(|o| o.value == s) {
                Ok(Value::String(s.to_string()))
            } else {
                let vals: Vec<&str> = options.iter().map(|o| o.value).collect();
                Err(err(
                    id,
                    format!(
                        "選択肢から選んでください / `{id}` is one of: {}; got {v}.",
                        vals.join(", ")
                    ),
                ))
            }
        }
        QuestionType::Text { max_chars } => {
            let s = v
                .as_str()
                .ok_or_else(|| err(id, format!("`{id}` is text.")))?
                .trim();
            if s.chars().count() > max_chars {
                return Err(err(
                    id,
                    format!(
                        "{max_chars} 文字以内で書いてください / `{id}` is at most {max_chars} characters."
                    ),
                ));
            }
            if s.chars().any(|c| c.is_control() && c != '\n') {
                return Err(err(id, format!("`{id}` holds control characters.")));
            }
            Ok(Value::String(s.to_string()))
        }
        QuestionType::Number { min, max, unit } => match v.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(json!(n)),
            _ => Err(err(
                id,
                format!(
                    "{min}〜{max} {unit} の数で答えてください / `{id}` is a number from {min} to {max} ({unit}); got {v}."
                ),
            )),
        },
        QuestionType::Phone => {
            let s = v.as_str().unwrap_or_default();
            super::ja::phone_number(s).map(Value::String).ok_or_else(|| {
                err(
                    id,
                    format!(
                        "電話番号は 0 から始まる10桁か11桁です（例 049-123-4567） / `{s}` is not a Japanese phone number: 10 or 11 digits starting with 0, e.g. 049-123-4567."
                    ),
                )
            })
        }
        QuestionType::Formulary => {
            let lines = v
                .as_array()
                .ok_or_else(|| err(id, format!("`{id}` is a list of formulary lines.")))?;
            if lines.len() > MAX_FORMULARY_LINES {
                return Err(err(
                    id,
                    format!("`{id}` has at most {MAX_FORMULARY_LINES} lines."),
                ));
            }
            let mut out = Vec::new();
            let mut seen = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let (entry, name) = formulary_line(&format!("{id}[{i}]"), line)?;
                let key = (entry.drug, entry.form, entry.strength.clone());
                if seen.contains(&key) {
                    return Err(err(
                        format!("{id}[{i}]"),
                        "同じ薬剤・剤形・規格が2回あります / This drug, form and strength is listed twice.",
                    ));
                }
                seen.push(key);
                let mut v = serde_json::to_value(&entry).expect("entries serialize");
                if let (Some(n), Value::Object(m)) = (name, &mut v) {
                    m.insert("name".into(), Value::String(n));
                }
                out.push(v);
            }
            Ok(Value::Array(out))
        }
    }
}

/// One formulary line: a brand or generic `name` (normalized), or `drug` and `form` codes.
fn formulary_line(at: &str, line: &Value) -> Result<(FormularyEntry, Option<String>), AnswerError> {
    let Value::Object(m) = line else {
        return Err(err(
            at,
            "A line is an object: {name | drug, form, strength?, stock, order_days?}.",
        ));
    };
    for k in m.keys() {
        if !["name", "drug", "form", "strength", "stock", "order_days"].contains(&k.as_str()) {
            return Err(err(
                format!("{at}.{k}"),
                format!(
                    "Unknown field `{k}`; a line has name or drug and form, strength, stock, order_days."
                ),
            ));
        }
    }
    let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::trim);
    let (drug, form, name) = match (text("name"), text("drug")) {
        // Normalized already (as stored): the drug and form decide, the name is the label.
        (Some(name), Some(drug)) => {
            let (d, form) = coded(at, drug, text("form"))?;
            (d, form, Some(name.to_string()))
        }
        (Some(name), None) => {
            let p = Product::parse(name).ok_or_else(|| {
                err(
                    format!("{at}.name"),
                    format!("「{name}」は調査票の医療用麻薬の一覧にありません（例 フェントステープ、オキシコンチン、モルヒネ塩酸塩注射液） / `{name}` is not a strong opioid this survey knows."),
                )
            })?;
            let form = match (p.scope, text("form")) {
                (Scope::Form(f), None) => f,
                (Scope::Form(f), Some(given)) if given == f.code() => f,
                (_, Some(given)) => single_form(at, p.drug, given)?,
                _ => {
                    return Err(err(
                        format!("{at}.form"),
                        format!(
                            "「{name}」だけでは剤形が決まりません。剤形を選んでください / `{name}` does not say the form: add `form`, one of {}.",
                            codes(p.drug)
                        ),
                    ));
                }
            };
            (p.drug, form, Some(name.to_string()))
        }
        (None, Some(drug)) => {
            let (d, form) = coded(at, drug, text("form"))?;
            (d, form, None)
        }
        (None, None) => {
            return Err(err(
                at,
                "Give `name` (a brand or generic name) or `drug` and `form`.",
            ));
        }
    };
    let stock = match text("stock") {
        Some("always") => Stock::Always,
        Some("order") => Stock::Order,
        Some("no") => Stock::No,
        _ => {
            return Err(err(
                format!("{at}.stock"),
                "在庫は 常時在庫・取り寄せ・取り扱いなし から選んでください / `stock` is always, order or no.",
            ));
        }
    };
    let order_days = match m.get("order_days").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n @ 0..=30) if stock == Stock::Order => Some(n as u32),
            Some(_) if stock != Stock::Order => {
                return Err(err(
                    format!("{at}.order_days"),
                    "取り寄せ日数は「取り寄せ」のときだけ書きます / `order_days` goes with stock `order` only.",
                ));
            }
            _ => {
                return Err(err(
                    format!("{at}.order_days"),
                    "取り寄せ日数は 0〜30 の整数です / `order_days` is whole days from 0 to 30.",
                ));
            }
        },
    };
    let strength = match m.get("strength").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let s = v.as_str().map(str::trim).unwrap_or_default();
            if s.is_empty() || s.chars().count() > 40 || s.chars().any(char::is_control) {
                return Err(err(
                    format!("{at}.strength"),
                    "規格は40文字以内で（例 2mg、10mg/1mL） / `strength` is a label of up to 40 characters, e.g. 2mg or 10mg/1mL.",
                ));
            }
            Some(s.to_string())
        }
    };
    Ok((
        FormularyEntry {
            drug,
            form,
            strength,
            stock,
            order_days,
        },
        name,
    ))
}

/// A line's `drug` and `form` codes.
fn coded(at: &str, drug: &str, form: Option<&str>) -> Result<(Drug, Form), AnswerError> {
    let d = Drug::from_code(drug).ok_or_else(|| {
        err(
            format!("{at}.drug"),
            format!(
                "Unknown drug `{drug}`. Valid: {}.",
                Drug::ALL
                    .iter()
                    .map(|d| d.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let form = form.ok_or_else(|| {
        err(
            format!("{at}.form"),
            format!("Add `form`, one of {}.", codes(d)),
        )
    })?;
    Ok((d, single_form(at, d, form)?))
}

fn codes(d: Drug) -> String {
    d.forms()
        .iter()
        .map(|f| f.code())
        .collect::<Vec<_>>()
        .join(", ")
}

fn single_form(at: &str, d: Drug, form: &str) -> Result<Form, AnswerError> {
    Form::from_code(form)
        .filter(|f| d.forms().contains(f))
        .ok_or_else(|| {
            err(
                format!("{at}.form"),
                format!(
                    "`{form}` is not a form of {}: one of {}.",
                    d.code(),
                    codes(d)
                ),
            )
        })
}

/// Who answered and how, for provenance.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// YYYY-MM-DD or RFC 3339.
    pub at: &'a str,
    /// `Survey`, or `SampleSurvey` for the demo answers.
    pub origin: Origin,
}

/// Fill `f`'s services from an approved answer set of `survey`. Questions not answered leave
/// their fields as they are; a "no" ends the service the question asks about.
pub fn apply(survey: &Survey, answers: &Answers, f: &mut Facility, by: Answered<'_>) {
    let provenance = Provenance {
        origin: by.origin,
        source: format!("survey:{}", survey.key()),
        snapshot: Some(by.at.get(..10).unwrap_or(by.at).to_string()),
    };
    let mark = SurveyMark {
        survey: survey.key(),
        answered_at: by.at.to_string(),
        sample: by.origin == Origin::SampleSurvey,
    };
    let ctx = Ctx {
        provenance: &provenance,
        mark: &mark,
        at: by.at,
    };
    match survey.code {
        SurveyCode::Pharmacy => {
            if let Some(licence) = answers.bool("narcotics_licence") {
                ctx.offer(f, ServiceKind::OpioidDispensing, licence, |a| {
                    if let Some(lines) = answers.0.get("formulary") {
                        a.formulary = lines
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|l| serde_json::from_value(strip_name(l)).ok())
                            .collect();
                    }
                    // Professional unless this answer set opts in to publishing it.
                    a.formulary_visibility = match answers.bool("formulary_public") {
                        Some(true) => Pub,
                        _ => Pro,
                    };
                    set(&mut a.pca_pump, answers.bool("pca_pump"));
                    set(
                        &mut a.subcutaneous_infusion,
                        answers.bool("subcutaneous_infusion"),
                    );
                    set(&mut a.take_back, answers.bool("take_back"));
                });
            }
            if let Some(home) = answers.bool("home_visits") {
                ctx.offer(f, ServiceKind::HomeMedicationManagement, home, |a| {
                    set(&mut a.radius_km, answers.num("service_radius_km"));
                    set_text(&mut a.notes, answers.str("service_area_note"));
                });
            }
            if let Some(c) = answers.str("aseptic_compounding") {
                let how = match c {
                    "own" => Some(Compounding::Own),
                    "shared" => Some(Compounding::Shared),
                    _ => None,
                };
                ctx.offer(f, ServiceKind::AsepticCompounding, how.is_some(), |a| {
                    a.compounding = how;
                });
            }
        }
        SurveyCode::Dental => {
            if let Some(home) = answers.bool("home_visits") {
                ctx.offer(f, ServiceKind::HomeVisitDental, home, |a| {
                    set(&mut a.radius_km, answers.num("service_radius_km"));
                    set_text(&mut a.notes, answers.str("service_area_note"));
                    set_text(&mut a.conditions, answers.str("conditions"));
                });
            }
        }
        SurveyCode::Clinic => {
            if let Some(home) = answers.bool("home_visits") {
                ctx.offer(f, ServiceKind::HomeVisits, home, |a| {
                    set_text(&mut a.specialty, answers.str("specialty"));
                    set(&mut a.radius_km, answers.num("service_radius_km"));
                    set(&mut a.end_of_life_care, answers.bool("end_of_life_care"));
                    set(
                        &mut a.palliative_sedation,
                        answers.bool("palliative_sedation"),
                    );
                });
            }
        }
    }
    if let Some(available) = answers.bool("after_hours") {
        f.after_hours = Some(AfterHours {
            available,
            provenance: provenance.clone(),
        });
        if !available {
            f.contacts.retain(|c| !is_after_hours_contact(c));
        }
    }
    if let Some(phone) = answers.str("after_hours_phone") {
        f.contacts.retain(|c| !is_after_hours_contact(c));
        f.contacts.push(Contact {
            kind: ContactKind::Phone,
            value: phone.to_string(),
            label: Some(AFTER_HOURS_LABEL.into()),
            visibility: Pro,
            provenance: provenance.clone(),
        });
    }
    f.canonicalize();
}

/// The label of the after-hours phone a survey gives.
pub const AFTER_HOURS_LABEL: &str = "時間外";

/// A contact a survey's after-hours question put there (replaced by the next answer).
pub fn is_after_hours_contact(c: &Contact) -> bool {
    c.label.as_deref() == Some(AFTER_HOURS_LABEL)
        && matches!(c.provenance.origin, Origin::Survey | Origin::SampleSurvey)
}

fn strip_name(line: &Value) -> Value {
    let mut l = line.clone();
    if let Value::Object(m) = &mut l {
        m.remove("name");
    }
    l
}

fn set<T>(field: &mut Option<T>, answer: Option<T>) {
    if answer.is_some() {
        *field = answer;
    }
}

fn set_text(field: &mut Option<String>, answer: Option<&str>) {
    if let Some(a) = answer {
        *field = (!a.is_empty()).then(|| a.to_string());
    }
}

struct Ctx<'a> {
    provenance: &'a Provenance,
    mark: &'a SurveyMark,
    at: &'a str,
}

impl Ctx<'_> {
    /// Offer `kind` (creating it from the survey) and fill it, or end it on a "no".
    fn offer(
        &self,
        f: &mut Facility,
        kind: ServiceKind,
        offered: bool,
        fill: impl FnOnce(&mut ServiceAttributes),
    ) {
        let existing = f.services.iter_mut().find(|s| s.kind == kind);
        let s = match (existing, offered) {
            (Some(s), _) => s,
            (None, false) => return,
            (None, true) => {
                f.services.push(Service {
                    kind,
                    status: ServiceStatus::Active,
                    attributes: ServiceAttributes::default(),
                    capacity: None,
                    admission_rules: None,
                    provenance: self.provenance.clone(),
                    updated_at: self.at.to_string(),
                    verified_at: None,
                    verified_by: None,
                });
                f.services.last_mut().expect("just pushed")
            }
        };
        s.status = if offered {
            ServiceStatus::Active
        } else {
            ServiceStatus::Inactive
        };
        if offered {
            fill(&mut s.attributes);
        }
        s.attributes.survey = Some(self.mark.clone());
        s.updated_at = self.at.to_string();
        s.verified_at = Some(self.at.to_string());
    }
}

/// The answers `f` stands for now, for the questions of `survey` (what a reviewer compares a
/// new answer set with).
pub fn current(survey: &Survey, f: &Facility) -> Value {
    let svc = |k: ServiceKind| f.services.iter().find(|s| s.kind == k);
    let offered = |k: ServiceKind| svc(k).map(|s| s.status != ServiceStatus::Inactive);
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let b = |v: Option<bool>| v.map(Value::Bool);
    let s = |v: Option<&String>| v.map(|s| Value::String(s.clone()));
    let n = |v: Option<f64>| v.map(|n| json!(n));
    match survey.code {
        SurveyCode::Pharmacy => {
            let od = svc(ServiceKind::OpioidDispensing).map(|s| &s.attributes);
            put(
                "narcotics_licence",
                b(offered(ServiceKind::OpioidDispensing)),
            );
            put(
                "formulary",
                od.filter(|a| !a.formulary.is_empty())
                    .map(|a| serde_json::to_value(&a.formulary).expect("entries serialize")),
            );
            put(
                "formulary_public",
                od.filter(|a| a.survey.is_some())
                    .map(|a| Value::Bool(a.formulary_visibility == Pub)),
            );
            put("pca_pump", b(od.and_then(|a| a.pca_pump)));
            put(
                "subcutaneous_infusion",
                b(od.and_then(|a| a.subcutaneous_infusion)),
            );
            put("take_back", b(od.and_then(|a| a.take_back)));
            let hm = svc(ServiceKind::HomeMedicationManagement).map(|s| &s.attributes);
            put(
                "home_visits",
                b(offered(ServiceKind::HomeMedicationManagement)),
            );
            put("service_radius_km", n(hm.and_then(|a| a.radius_km)));
            put("service_area_note", s(hm.and_then(|a| a.notes.as_ref())));
            let ac = svc(ServiceKind::AsepticCompounding);
            put(
                "aseptic_compounding",
                ac.map(|s| {
                    let v = match (s.status, s.attributes.compounding) {
                        (ServiceStatus::Inactive, _) => "none",
                        (_, Some(Compounding::Shared)) => "shared",
                        _ => "own",
                    };
                    Value::String(v.into())
                }),
            );
        }
        SurveyCode::Dental => {
            let a = svc(ServiceKind::HomeVisitDental).map(|s| &s.attributes);
            put("home_visits", b(offered(ServiceKind::HomeVisitDental)));
            put("service_radius_km", n(a.and_then(|a| a.radius_km)));
            put("service_area_note", s(a.and_then(|a| a.notes.as_ref())));
            put("conditions", s(a.and_then(|a| a.conditions.as_ref())));
        }
        SurveyCode::Clinic => {
            let a = svc(ServiceKind::HomeVisits).map(|s| &s.attributes);
            put("home_visits", b(offered(ServiceKind::HomeVisits)));
            put("specialty", s(a.and_then(|a| a.specialty.as_ref())));
            put("service_radius_km", n(a.and_then(|a| a.radius_km)));
            put("end_of_life_care", b(a.and_then(|a| a.end_of_life_care)));
            put(
                "palliative_sedation",
                b(a.and_then(|a| a.palliative_sedation)),
            );
        }
    }
    put(
        "after_hours",
        b(f.after_hours.as_ref().map(|a| a.available)),
    );
    put(
        "after_hours_phone",
        f.contacts
            .iter()
            .find(|c| is_after_hours_contact(c))
            .map(|c| Value::String(c.value.clone())),
    );
    Value::Object(m)
}

/// Undo what a sample answer set filled: services a sample survey created go, the survey
/// fields of the others are cleared, and sample after-hours facts go. Returns whether anything
/// changed.
pub fn remove_sample(f: &mut Facility) -> bool {
    let before = f.clone();
    f.services
        .retain(|s| s.provenance.origin != Origin::SampleSurvey);
    for s in &mut f.services {
        if s.attributes.survey.as_ref().is_some_and(|m| m.sample) {
            s.attributes.clear_survey_fields();
            s.status = ServiceStatus::Active;
        }
    }
    f.contacts
        .retain(|c| c.provenance.origin != Origin::SampleSurvey);
    if f.after_hours
        .as_ref()
        .is_some_and(|a| a.provenance.origin == Origin::SampleSurvey)
    {
        f.after_hours = None;
    }
    *f != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pharmacy() -> &'static Survey {
        Survey::current(SurveyCode::Pharmacy)
    }

    #[test]
    fn definitions_are_consistent() {
        for s in SURVEYS {
            let mut ids = std::collections::HashSet::new();
            for q in s.questions {
                assert!(ids.insert(q.id), "{} twice in {}", q.id, s.key());
                if let Some(w) = q.when {
                    let dep = s.question(w.question).expect("condition names a question");
                    assert!(matches!(dep.kind, QuestionType::YesNo), "{}", q.id);
                    let pos = |id| s.questions.iter().position(|q| q.id == id);
                    assert!(pos(w.question) < pos(q.id), "{} before its condition", q.id);
                }
            }
            assert_eq!(
                Survey::current(s.code).key(),
                s.key(),
                "one version each for now"
            );
        }
        // The definition serializes flat: type next to the id.
        let v = serde_json::to_value(pharmacy()).unwrap();
        assert_eq!(v["questions"][1]["type"], "formulary");
        assert_eq!(v["questions"][1]["when"]["question"], "narcotics_licence");
        assert_eq!(v["questions"][6]["options"][0]["value"], "own");
    }

    #[test]
    fn brand_names_become_drug_and_form() {
        let a = validate(
            pharmacy(),
            &json!({
                "narcotics_licence": true,
                "home_visits": false,
                "formulary": [
                    {"name": "フェントステープ", "strength": "1mg", "stock": "always"},
                    {"name": "ｵｷﾉｰﾑ散", "stock": "order", "order_days": 2},
                    {"drug": "morphine", "form": "suppository", "stock": "no"},
                    {"name": "モルヒネ塩酸塩", "form": "injection", "stock": "always"},
                ],
            }),
        )
        .unwrap();
        let lines = a.0["formulary"].as_array().unwrap();
        assert_eq!(lines[0]["drug"], "fentanyl");
        assert_eq!(lines[0]["form"], "patch_1day");
        assert_eq!(lines[0]["name"], "フェントステープ");
        assert_eq!(lines[1]["form"], "oral_immediate");
        assert_eq!(lines[1]["order_days"], 2);
        assert_eq!(lines[2]["stock"], "no");
        assert_eq!(lines[3]["form"], "injection");
        // What is stored validates again to itself (an approval checks it once more).
        assert_eq!(validate(pharmacy(), &a.to_value()).unwrap(), a);
    }

    #[test]
    fn bad_answers_name_the_field() {
        let bad = |v: Value| validate(pharmacy(), &v).unwrap_err().field;
        assert_eq!(bad(json!({"home_visits": true})), "narcotics_licence");
        assert_eq!(
            bad(json!({"narcotics_licence": "yes", "home_visits": true})),
            "narcotics_licence"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": false, "home_visits": true, "formulary": []})),
            "formulary"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true,
                "formulary": [{"name": "ロキソニン", "stock": "always"}]})),
            "formulary[0].name"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true,
                "formulary": [{"name": "フェンタニル", "stock": "always"}]})),
            "formulary[0].form"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true,
                "formulary": [{"drug": "tapentadol", "form": "injection", "stock": "always"}]})),
            "formulary[0].form"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true,
                "formulary": [{"name": "オキノーム", "stock": "always", "order_days": 2}]})),
            "formulary[0].order_days"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true, "colour": "red"})),
            "colour"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": true, "service_radius_km": 20})),
            "service_radius_km"
        );
        assert_eq!(
            bad(json!({"narcotics_licence": true, "home_visits": false,
                "after_hours": true, "after_hours_phone": "110"})),
            "after_hours_phone"
        );
    }
}
