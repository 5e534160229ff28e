"""Parses an -perf-report page as XML (so it must be well-formed) and
prints what html.test checks: the summary rows, the layer table's size and
rows, the timeline's bars, the graph's nodes and edges."""
import sys
import xml.etree.ElementTree as ET

H = "{http://www.w3.org/1999/xhtml}"
S = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
print("root", root.tag.replace(H, ""), root.get("lang"))
print("title", root.find(H + "head/" + H + "title").text)
for tr in root.iter(H + "tr"):
    cells = [c.text or "" for c in tr]
    print("row", " | ".join(cells))
svg = root.find(".//" + S + "svg")
for rect in svg.iter(S + "rect"):
    print("bar", rect.get("x"), rect.get("width"), rect.get("fill"),
          rect.find(S + "title").text)
for graph in root.iter(S + "svg"):
    if graph.get("id") != "graph":
        continue
    for box in graph.iter(S + "g"):
        rect = box.find(S + "rect")
        print("node", rect.get("x"), rect.get("y"), rect.get("fill"),
              rect.find(S + "title").text, "|",
              " | ".join(t.text for t in box.iter(S + "text")))
    for line in graph.iter(S + "line"):
        print("edge", line.find(S + "title").text)
