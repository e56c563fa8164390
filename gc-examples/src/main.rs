//! The seed tour: `cargo run -p gc-examples` runs every section;
//! `-- --list` lists them; `-- NAME...` runs the named sections (a section
//! name, or `seed000` … `seed004` for all of one seed's sections).
//!
//! Exit codes: 0 on success, 1 if writing the output failed, 2 for an
//! unknown name or option (the message lists the valid names).

use gc_examples::{find, Section, SECTIONS};
use std::io::{self, Write};
use std::process::ExitCode;

fn usage() -> String {
    "usage: gc-examples [--list | --help | NAME...]\n\
     Runs the seed tour: every section, or the named ones (a section name, or seed000..seed004).\n\
     The examples of what users build run as cargo examples:\n  \
     cargo run -p gc-examples --example interpreter|widgets|threaded_graph"
        .to_owned()
}

fn valid_names() -> String {
    let mut seeds: Vec<String> = SECTIONS.iter().map(|s| s.seed.selector()).collect();
    seeds.dedup();
    let sections: Vec<&str> = SECTIONS.iter().map(|s| s.name).collect();
    format!(
        "valid names:\n  {}\n  {}",
        seeds.join(" "),
        sections.join("\n  ")
    )
}

fn list(out: &mut dyn Write) -> io::Result<()> {
    let width = SECTIONS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut last_seed = "";
    for section in SECTIONS {
        if section.seed.number != last_seed {
            last_seed = section.seed.number;
            writeln!(
                out,
                "{}  ({}: {})",
                section.seed.selector(),
                section.seed.file,
                section.seed.title
            )?;
        }
        writeln!(out, "  {:width$}  {}", section.name, section.summary)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = io::stdout();
    let mut out = stdout.lock();

    let selected: Vec<&'static Section> = if args.is_empty() {
        SECTIONS.iter().collect()
    } else if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}\n\n{}", usage(), valid_names());
        return ExitCode::SUCCESS;
    } else if args.iter().any(|a| a == "--list") {
        if args.len() > 1 {
            eprintln!("gc-examples: --list takes no other argument\n{}", usage());
            return ExitCode::from(2);
        }
        return match list(&mut out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gc-examples: writing the list failed: {e}");
                ExitCode::FAILURE
            }
        };
    } else {
        let mut selected = Vec::new();
        for arg in &args {
            let found = find(arg);
            if found.is_empty() {
                eprintln!(
                    "gc-examples: unknown section or option `{arg}`\n{}\n{}",
                    usage(),
                    valid_names()
                );
                return ExitCode::from(2);
            }
            selected.extend(found);
        }
        selected
    };

    for section in selected {
        if let Err(e) = (section.run)(&mut out).and_then(|()| out.flush()) {
            eprintln!("gc-examples: section {} failed: {e}", section.name);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
