"""The one helper both notebook generators share: cells written as strings become an output-free notebook."""
import nbformat as nbf


def nb(cells):
    """Strings starting with ``md:`` become Markdown cells, the rest code cells."""
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells = [nbf.v4.new_markdown_cell(c[3:].strip()) if c.startswith("md:") else nbf.v4.new_code_cell(c.strip()) for c in cells]
    return book
