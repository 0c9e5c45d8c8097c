//! Procedural macros of `databricks-mcp-sdk`. Use them through that crate: `#[tool]` turns a
//! function into a tool, `#[resource]` into a resource template's reader, `#[prompt]` into a
//! prompt, and `#[schema]` makes a type usable as their arguments or results.

#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token, parse_macro_input, punctuated::Punctuated};

/// Make a function a tool.
///
/// The function must have the shape `fn name(ctx: &Context, args: Args) -> Result<Out>` where
/// `Args` derives `Deserialize + JsonSchema` (see `#[schema]`) and `Out` is `Output<T>` or
/// `String`. Its doc comment becomes the tool description and its name the tool name.
///
/// Options: `read_only`, `destructive`, `idempotent`, `open_world`, `title = "..."`,
/// `name = "..."` (to publish under another name).
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attr with Punctuated::<Meta, Token![,]>::parse_terminated);
    let function = parse_macro_input!(item as ItemFn);
    match expand_tool(options, &function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#function #error).into()
        }
    }
}

fn expand_tool(options: Punctuated<Meta, Token![,]>, function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let mut name = ident.to_string();
    let mut title = quote!(None);
    let (mut read_only, mut destructive, mut idempotent, mut open_world) = (false, false, false, false);
    for option in options {
        match &option {
            Meta::Path(path) if path.is_ident("read_only") => read_only = true,
            Meta::Path(path) if path.is_ident("destructive") => destructive = true,
            Meta::Path(path) if path.is_ident("idempotent") => idempotent = true,
            Meta::Path(path) if path.is_ident("open_world") => open_world = true,
            Meta::NameValue(nv) if nv.path.is_ident("title") => {
                let value = string_literal(&nv.value)?;
                title = quote!(Some(#value));
            }
            Meta::NameValue(nv) if nv.path.is_ident("name") => name = string_literal(&nv.value)?,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "unknown tool option; expected read_only, destructive, idempotent, open_world, title = \"..\" or name = \"..\"",
                ));
            }
        }
    }
    if read_only && destructive {
        return Err(syn::Error::new(Span::call_site(), "a tool cannot be both read_only and destructive"));
    }
    let description = doc_comment(&function.attrs);
    if description.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.ident,
            "a tool needs a doc comment: it is the description the model reads",
        ));
    }
    if function.sig.inputs.len() != 2 {
        return Err(syn::Error::new_spanned(
            &function.sig.inputs,
            "a tool takes exactly two parameters: (ctx: &Context, args: Args)",
        ));
    }
    let sdk = quote!(::databricks_mcp_sdk);
    Ok(quote! {
        #function

        #[doc(hidden)]
        #vis mod #ident {
            #[allow(unused_imports)]
            use super::*;
            pub const TOOL: #sdk::ToolDef = #sdk::ToolDef {
                name: #name,
                title: #title,
                description: #description,
                annotations: #sdk::Annotations {
                    read_only: #read_only,
                    destructive: #destructive,
                    idempotent: #idempotent,
                    open_world: #open_world,
                },
                input_schema: || #sdk::__private::input_schema(super::#ident),
                output_schema: || #sdk::__private::output_schema(super::#ident),
                call: |ctx, arguments| #sdk::__private::call(super::#ident, ctx, arguments),
            };
        }
    })
}

/// Make a function read a family of resources.
///
/// The function must have the shape `fn name(ctx: &Context, vars: Vars) -> Result<Contents>`
/// where `Vars` is a `#[schema]` struct whose fields are the template's variables (strings,
/// percent-decoded). Its doc comment becomes the template's description.
///
/// Options: `uri = "notebook/{+path}"` (required: an RFC 6570 template below the pack's root,
/// `{var}` for one segment and `{+var}` for several), `mime_type = ".."`, `title = ".."`,
/// `name = ".."` (default: the function name).
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attr with Punctuated::<Meta, Token![,]>::parse_terminated);
    let function = parse_macro_input!(item as ItemFn);
    match expand_resource(options, &function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#function #error).into()
        }
    }
}

fn expand_resource(options: Punctuated<Meta, Token![,]>, function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let mut name = ident.to_string();
    let (mut uri, mut title, mut mime_type) = (None, quote!(None), quote!(None));
    for option in options {
        match &option {
            Meta::NameValue(nv) if nv.path.is_ident("uri") => uri = Some(string_literal(&nv.value)?),
            Meta::NameValue(nv) if nv.path.is_ident("title") => {
                let value = string_literal(&nv.value)?;
                title = quote!(Some(#value));
            }
            Meta::NameValue(nv) if nv.path.is_ident("mime_type") => {
                let value = string_literal(&nv.value)?;
                mime_type = quote!(Some(#value));
            }
            Meta::NameValue(nv) if nv.path.is_ident("name") => name = string_literal(&nv.value)?,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "unknown resource option; expected uri = \"..\", mime_type = \"..\", title = \"..\" or name = \"..\"",
                ));
            }
        }
    }
    let Some(uri) = uri else {
        return Err(syn::Error::new(
            Span::call_site(),
            "a resource needs `uri = \"template\"`, e.g. uri = \"notebook/{+path}\"",
        ));
    };
    let description = described(function, "resource")?;
    let sdk = quote!(::databricks_mcp_sdk);
    Ok(quote! {
        #function

        #[doc(hidden)]
        #vis mod #ident {
            #[allow(unused_imports)]
            use super::*;
            pub const RESOURCE: #sdk::ResourceDef = #sdk::ResourceDef {
                uri_template: #uri,
                name: #name,
                title: #title,
                description: #description,
                mime_type: #mime_type,
                read: |ctx, vars| #sdk::__content::read(super::#ident, ctx, vars),
            };
        }
    })
}

/// Make a function render a prompt.
///
/// The function must have the shape `fn name(ctx: &Context, args: Args) -> Result<Prompt>`
/// where `Args` is a `#[schema]` struct of `String` (required) and `Option<String>` fields:
/// they are the prompt's arguments, with their doc comments as descriptions. The function's
/// doc comment becomes the prompt's description.
///
/// Options: `title = ".."`, `name = ".."` (default: the function name).
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attr with Punctuated::<Meta, Token![,]>::parse_terminated);
    let function = parse_macro_input!(item as ItemFn);
    match expand_prompt(options, &function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#function #error).into()
        }
    }
}

fn expand_prompt(options: Punctuated<Meta, Token![,]>, function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let mut name = ident.to_string();
    let mut title = quote!(None);
    for option in options {
        match &option {
            Meta::NameValue(nv) if nv.path.is_ident("title") => {
                let value = string_literal(&nv.value)?;
                title = quote!(Some(#value));
            }
            Meta::NameValue(nv) if nv.path.is_ident("name") => name = string_literal(&nv.value)?,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "unknown prompt option; expected title = \"..\" or name = \"..\"",
                ));
            }
        }
    }
    let description = described(function, "prompt")?;
    let sdk = quote!(::databricks_mcp_sdk);
    Ok(quote! {
        #function

        #[doc(hidden)]
        #vis mod #ident {
            #[allow(unused_imports)]
            use super::*;
            pub const PROMPT: #sdk::PromptDef = #sdk::PromptDef {
                name: #name,
                title: #title,
                description: #description,
                arguments: || #sdk::__content::arguments(super::#ident),
                render: |ctx, arguments| #sdk::__content::render(super::#ident, ctx, arguments),
            };
        }
    })
}

/// The doc comment of a two-parameter function marked as `what`, or an error saying what is missing.
fn described(function: &ItemFn, what: &str) -> syn::Result<String> {
    let description = doc_comment(&function.attrs);
    if description.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.ident,
            format!("a {what} needs a doc comment: it is the description the model reads"),
        ));
    }
    if function.sig.inputs.len() != 2 {
        return Err(syn::Error::new_spanned(
            &function.sig.inputs,
            format!("a {what} function takes exactly two parameters: (ctx: &Context, args: Args)"),
        ));
    }
    Ok(description)
}

fn string_literal(expr: &Expr) -> syn::Result<String> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        other => Err(syn::Error::new_spanned(other, "expected a string literal")),
    }
}

/// The doc comment as the description: lines joined, paragraphs kept.
fn doc_comment(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => string_literal(&nv.value).ok(),
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(&line).trim_end().to_string())
        .collect();
    let mut text = String::new();
    for line in lines {
        if line.is_empty() {
            text.push_str("\n\n");
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(&line);
        }
    }
    text.trim().to_string()
}

/// Derive `Serialize`, `Deserialize` and `JsonSchema` through the SDK's re-exports, so a tool
/// pack needs no direct `serde` or `schemars` dependency. Doc comments on fields become schema
/// descriptions; `#[serde(...)]` and `#[schemars(...)]` attributes work as usual.
#[proc_macro_attribute]
pub fn schema(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[schema] takes no options").to_compile_error().into();
    }
    let item = proc_macro2::TokenStream::from(item);
    quote! {
        #[derive(
            ::databricks_mcp_sdk::serde::Serialize,
            ::databricks_mcp_sdk::serde::Deserialize,
            ::databricks_mcp_sdk::schemars::JsonSchema
        )]
        #[serde(crate = "::databricks_mcp_sdk::serde")]
        #[schemars(crate = "::databricks_mcp_sdk::schemars")]
        #item
    }
    .into()
}
