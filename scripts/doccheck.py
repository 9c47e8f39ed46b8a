#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Parse every Documentation/*.rst with docutils; any warning fails.

Sphinx's :doc: role and toctree directive are accepted (checked only for
naming an existing page), so the docs need no Sphinx to be checked."""

import os
import sys

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "Documentation")
missing = []


def page_exists(name):
    if not os.path.exists(os.path.join(DOC, name + ".rst")):
        missing.append(name)


def doc_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    page_exists(text.strip())
    return [nodes.literal(rawtext, text)], []


class TocTree(Directive):
    has_content = True
    option_spec = {"maxdepth": directives.unchanged, "caption": directives.unchanged}

    def run(self):
        for line in self.content:
            if line.strip():
                page_exists(line.strip())
        return []


roles.register_local_role("doc", doc_role)
directives.register_directive("toctree", TocTree)

bad = 0
for f in sorted(os.listdir(DOC)):
    if not f.endswith(".rst"):
        continue
    with open(os.path.join(DOC, f)) as fh:
        src = fh.read()
    try:
        publish_doctree(src, source_path=f,
                        settings_overrides={"halt_level": 2, "report_level": 2})
    except Exception as e:  # docutils raises SystemMessage at halt_level
        print("doccheck: %s: %s" % (f, e))
        bad += 1
for m in missing:
    print("doccheck: reference to missing page %s" % m)
    bad += 1
print("doccheck: %s" % ("clean" if not bad else "%d problem(s)" % bad))
sys.exit(1 if bad else 0)
