//! Schemas of fields that serde reads its own way (`deserialize_with`),
//! for `#[schema(schema_with = ...)]`: what the deserializer takes, not
//! what the Rust type is.

use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

fn of(ty: Type) -> Schema {
    ObjectBuilder::new().schema_type(SchemaType::new(ty)).into()
}

/// OpenIM's optional wrapper (`wire_v3::wrapped`): the plain value, `{"value":
/// x}`, or null for absent.
fn wrapped(ty: Type) -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(of(ty.clone()))
        .item(
            ObjectBuilder::new()
                .property("value", of(ty))
                .required("value"),
        )
        .item(of(Type::Null))
        .description(Some(
            "The value, or OpenIM's wrapper {\"value\": ...}; null or absent leaves it unchanged.",
        ))
        .into()
}

pub fn wrapped_string() -> RefOr<Schema> {
    wrapped(Type::String)
}

pub fn wrapped_i32() -> RefOr<Schema> {
    wrapped(Type::Integer)
}

pub fn wrapped_bool() -> RefOr<Schema> {
    wrapped(Type::Boolean)
}

/// `wire::string_or_number`: a string or an integer, kept as text.
pub fn string_or_integer() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(of(Type::String))
        .item(of(Type::Integer))
        .item(of(Type::Null))
        .into()
}

/// `sync::shapes::uint64`: an unsigned integer, or its decimal text (as
/// protobuf's JSON writes a uint64); null or "" is 0.
pub fn uint64() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]*$")),
        )
        .item(of(Type::Null))
        .into()
}

/// The schema of an Easemob body `T` with the app token beside its fields
/// (`AppHx` reads `token` first, then the rest as `T`).
pub fn with_app_token<T: utoipa::ToSchema>() -> RefOr<Schema> {
    utoipa::openapi::schema::AllOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name(T::name()))
        .item(
            ObjectBuilder::new()
                .property(
                    "token",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some("The app token, from /hx/getToken.")),
                )
                .required("token"),
        )
        .into()
}

/// `$name`: the schema of the body `$inner` with the app token
/// (`with_app_token`), named `$inner`'s name and `.WithToken`.
#[macro_export]
macro_rules! with_app_token {
    ($name:ident, $inner:ty) => {
        struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::openapi::with_app_token::<$inner>()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                format!("{}.WithToken", <$inner as utoipa::ToSchema>::name()).into()
            }

            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                schemas.push((
                    <$inner as utoipa::ToSchema>::name().into_owned(),
                    <$inner as utoipa::PartialSchema>::schema(),
                ));
                <$inner as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

/// The schema of a body in either of two spellings (`wire_v3::Spelled`):
/// `anyOf` the two, since one body may fit both.
pub fn either<A: utoipa::ToSchema, B: utoipa::ToSchema>() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name(A::name()))
        .item(utoipa::openapi::Ref::from_schema_name(B::name()))
        .description(Some(
            "OpenIM v3's spelling (the client SDK's) when the body has one of its own \
             keys, else v2's.",
        ))
        .into()
}

/// `$name`: the schema of a `Spelled<$v3, $v2>` body (`either`).
#[macro_export]
macro_rules! spelled_schema {
    ($name:ident, $v3:ty, $v2:ty) => {
        struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::openapi::either::<$v3, $v2>()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                format!(
                    "{}.or.{}",
                    <$v3 as utoipa::ToSchema>::name(),
                    <$v2 as utoipa::ToSchema>::name().trim_start_matches("openim.")
                )
                .into()
            }

            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                for (name, schema) in [
                    (
                        <$v3 as utoipa::ToSchema>::name(),
                        <$v3 as utoipa::PartialSchema>::schema(),
                    ),
                    (
                        <$v2 as utoipa::ToSchema>::name(),
                        <$v2 as utoipa::PartialSchema>::schema(),
                    ),
                ] {
                    schemas.push((name.into_owned(), schema));
                }
                <$v3 as utoipa::ToSchema>::schemas(schemas);
                <$v2 as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

/// An object whose values are strings, numbers or booleans (yunbay's
/// broadcast filter), or null for none.
pub fn scalar_map() -> RefOr<Schema> {
    let scalar = AnyOfBuilder::new()
        .item(of(Type::String))
        .item(of(Type::Number))
        .item(of(Type::Boolean));
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(Schema::from(scalar))),
        )
        .item(of(Type::Null))
        .into()
}
