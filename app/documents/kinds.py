"""Which file extensions the app reads, as what kind, and what to say about the others."""

from __future__ import annotations

from app.documents.result import DocumentKind
from app.sentences import say


def _suffixes(words: str) -> frozenset[str]:
    """A set of extensions written as one whitespace-separated string."""
    return frozenset(words.split())


_TEXT = _suffixes(".txt .text .log .rst .rest .adoc .asciidoc .org .tex .bib .srt .vtt .nfo")
_MARKDOWN = _suffixes(".md .markdown .mdown .mkd .mkdn .mdx")
_CODE = _suffixes(
    """
    .py .pyi .pyw .pyx .pxd .ipynb .c .h .cc .cpp .cxx .c++ .hpp .hh .hxx .inl .cu .cuh .m .mm
    .cs .java .kt .kts .scala .sc .groovy .gradle .go .rs .swift .dart .zig .nim .d .v .sv .vhd
    .js .mjs .cjs .jsx .ts .mts .cts .tsx .vue .svelte .astro .php .rb .erb .pl .pm .lua .r .jl
    .hs .ml .mli .fs .fsx .ex .exs .erl .hrl .clj .cljs .edn .lisp .el .scm .rkt .tcl .awk
    .f .f90 .f95 .for .pas .asm .s .sh .bash .zsh .fish .ps1 .psm1 .bat .cmd .vim .coffee .elm
    .sql .css .scss .sass .less .styl .json .jsonl .ndjson .json5 .geojson .yaml .yml .toml
    .ini .cfg .conf .properties .env .csv .tsv .xml .xsd .xsl .xslt .plist .proto .graphql .gql
    .tf .hcl .nix .cmake .mk .make .dockerfile .gitignore .editorconfig .patch .diff .lock
    .glsl .hlsl .wgsl .vert .frag .cl .jinja .j2 .tpl .mustache .hbs .ejs .twig .http .rq
    """
)
_HTML = _suffixes(".html .htm .xhtml .xht .shtml")

#: The kind of document each supported extension (lower case, with the dot) holds.
KIND_BY_SUFFIX: dict[str, DocumentKind] = {
    **dict.fromkeys(_TEXT, DocumentKind.TEXT),
    **dict.fromkeys(_MARKDOWN, DocumentKind.MARKDOWN),
    **dict.fromkeys(_CODE, DocumentKind.CODE),
    **dict.fromkeys(_HTML, DocumentKind.HTML),
    ".pdf": DocumentKind.PDF,
    ".docx": DocumentKind.DOCX,
    ".epub": DocumentKind.EPUB,
}

#: Every extension read_document accepts; files without one are read as text when they are.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(KIND_BY_SUFFIX)

#: The supported kinds, as listed in the error for an unsupported file.
SUPPORTED_KINDS: tuple[str, ...] = (
    "plain text (.txt, .md, .rst)",
    "source code and data files (.py, .js, .json, .csv and many more)",
    "HTML",
    "PDF",
    "Word (.docx)",
    "EPUB",
)

# What to do with common files the app cannot read.
_ADVICE: dict[str, str] = {
    **dict.fromkeys(
        _suffixes(".doc .rtf .odt .wps .pages"),
        say("save it as .docx or PDF in your word processor and drop that file."),
    ),
    **dict.fromkeys(
        _suffixes(".xls .xlsx .xlsm .ods .numbers"),
        say("export the sheet as CSV and drop that file."),
    ),
    **dict.fromkeys(
        _suffixes(".ppt .pptx .odp .key"),
        say("export the slides as PDF and drop that file."),
    ),
    **dict.fromkeys(
        _suffixes(".png .jpg .jpeg .gif .bmp .tif .tiff .webp .heic"),
        say("the app reads text only: run OCR on the image and drop the PDF or text it makes."),
    ),
    **dict.fromkeys(
        _suffixes(".mobi .azw .azw3 .djvu"),
        say("convert it to EPUB or PDF in an e-book program such as Calibre and drop that file."),
    ),
    **dict.fromkeys(
        _suffixes(".zip .7z .rar .gz .tar .tgz .bz2 .xz"),
        say("unpack it and drop the documents inside one at a time."),
    ),
}


def advice_for(suffix: str) -> str:
    """What to do with an unsupported file of this extension ('' when there is no advice)."""
    return _ADVICE.get(suffix.lower(), "")
