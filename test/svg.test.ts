// SVG figures: well-formed XML, escaped text, titles present, deterministic output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { barChart, escapeXml, heatStrip, lineChart, niceTicks, scatterPlot } from "../src/report/svg.js";

/** A minimal XML well-formedness check: one root, balanced tags, quoted attributes, valid entities. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml))) {
    assert.ok(xml.slice(last, m.index).trim() === "" || stack.length > 0, `text outside the root at ${m.index}`);
    last = re.lastIndex;
    if (m[0] === "&") {
      assert.match(xml.slice(m.index, m.index + 8), /^&(amp|lt|gt|quot|apos|#\d+);/, `bad entity at ${m.index}`);
      continue;
    }
    assert.notEqual(m[0], "<", `stray '<' or malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    const [, close, name, attrs, selfClose] = m;
    for (const a of attrs.matchAll(/"([^"]*)"/g)) assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(a[1]), "raw & in attribute");
    if (close) assert.equal(stack.pop(), name, `mismatched </${name}>`);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  assert.equal(stack.length, 0, `unclosed: ${stack.join(",")}`);
  assert.equal(roots, 1, "exactly one root element");
  assert.ok(xml.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(!/<script|@import|url\(http/.test(xml), "no scripts or external resources");
}

const line = () =>
  lineChart({
    title: "Loss <SST> & 'talker'",
    xLabel: "step",
    yLabel: "loss",
    series: [
      { name: "train", points: [[1, 2.5], [10, 1.2], [100, 0.4], [1000, 0.1]] },
      { name: "val \"held-out\"", points: [[1, 2.6], [10, NaN], [100, 0.5], [1000, 0.2]] },
    ],
    xLog: true,
  });

test("lineChart is well-formed, escaped and deterministic", () => {
  const svg = line();
  assertWellFormed(svg);
  assert.ok(svg.includes("Loss &lt;SST&gt; &amp; &apos;talker&apos;"));
  assert.ok(svg.includes("val &quot;held-out&quot;"));
  assert.ok(svg.includes(">1000<") && svg.includes(">10<"), "log ticks at powers of ten");
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3, "NaN splits the second series");
  assert.equal(svg, line());
  assert.throws(() => lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", points: [[0, 1]] }], xLog: true }), /positive/);
});

test("scatterPlot draws labels, diamonds and arrowed trajectories", () => {
  const make = () =>
    scatterPlot({
      title: "PCA of latents",
      xLabel: "PC1 (8.7%)",
      yLabel: "PC2 (7.9%)",
      groups: [
        { name: "vocab", points: [{ x: 0, y: 1, label: "A" }, { x: 1, y: 0, label: "<end>" }], marker: "diamond", color: "#D55E00" },
        { name: "route latents", points: [{ x: 0.2, y: 0.3 }, { x: 0.5, y: 0.1 }, { x: 0.7, y: 0.6 }], connect: true },
      ],
      width: 800,
      height: 500,
    });
  const svg = make();
  assertWellFormed(svg);
  assert.ok(svg.includes('width="800"') && svg.includes("PCA of latents") && svg.includes("&lt;end&gt;"));
  assert.ok(svg.includes("<marker") && svg.includes("marker-mid="));
  assert.equal(svg, make());
});

test("barChart and heatStrip are well-formed and contain their labels", () => {
  const bars = barChart({
    title: "Accuracy per noise level",
    yLabel: "accuracy",
    categories: ["0%", "10%", "20%"],
    series: [{ name: "JEPA", values: [1, 0.9, 0.8] }, { name: "GPT", values: [1, 0.6, 0.3] }],
    yRange: [0, 1],
  });
  assertWellFormed(bars);
  assert.ok(bars.includes("Accuracy per noise level") && bars.includes(">20%<"));
  assert.equal((bars.match(/<rect [^>]*fill="#(0072B2|E69F00)"/g) ?? []).length, 6 + 2, "6 bars + 2 legend swatches");
  assert.throws(() => barChart({ title: "t", yLabel: "y", categories: ["a"], series: [{ name: "s", values: [1, 2] }] }), /2 values for 1 categories/);
  const strip = heatStrip({ title: "cos(latent, E)", labels: ["A", "B", "[ROUTE]", "<pad>"], values: [0.9, -0.2, 0.1, 0] });
  assertWellFormed(strip);
  assert.ok(strip.includes("[ROUTE]") && strip.includes("&lt;pad&gt;") && strip.includes('height="220"'));
  assert.equal(strip, heatStrip({ title: "cos(latent, E)", labels: ["A", "B", "[ROUTE]", "<pad>"], values: [0.9, -0.2, 0.1, 0] }));
});

test("niceTicks and escapeXml", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-0.37, 2.1), [-0.5, 0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(3, 3), [1, 2, 3, 4, 5]);
  assert.equal(escapeXml(`a<b>&"c'`), "a&lt;b&gt;&amp;&quot;c&apos;");
});
