/**
 * Starter specs for `mex init`. Each is a complete, commented spec that checks without errors
 * (a test asserts it) and is already in `mex fmt` style. `__NAME__` becomes the model name.
 */

export const TEMPLATE_NAMES = ["quickstart", "fashion", "resnet"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const QUICKSTART = `// __NAME__.mex: a small multi-exit network on built-in synthetic images (no download needed).
//   mex check __NAME__.mex     validate the spec (syntax, names, shapes, costs)
//   mex inspect __NAME__.mex   shapes, parameters and MACs of every layer and exit
//   mex graph __NAME__.mex     the backbone, exits and teacher arrows as a diagram
model __NAME__ {
  // Each example is a 16x16 image with one channel: [height, width, channels].
  input [16, 16, 1]
  // Number of classes; \`classes\` can be used as a constant below, as in dense(classes).
  classes 4

  // The backbone is a chain of stages. Each stage halves the image and doubles the channels.
  backbone {
    stage s1 { conv(8, kernel=3) bn relu maxpool(2) }
    stage s2 { conv(16, kernel=3) bn relu maxpool(2) }
    stage s3 { conv(32, kernel=3) bn relu maxpool(2) }
  }

  // Exits (classifier heads) attach after stages, in stage order; each ends in dense(classes).
  exit e1 after s1 { conv(8, kernel=3, stride=2) bn relu gap dense(classes) }
  exit e2 after s2 { gap dense(classes) }
  exit e3 after s3 { gap dense(classes) }

  // Distillation: the last exit teaches the earlier ones. Remove the section for exit-wise training.
  distill {
    teachers: last                                               // or: later, none, { e1 <- [e2, e3] }
    weight: 0.5                                                  // C, the share of the distillation term
    temperature: adaptive(start=1, confidence=0.5, factor=1.05)  // or a constant such as 4
  }

  train {
    data: synthetic(per_class=300, val_per_class=60, test_per_class=100)
    optimizer: adam(lr=0.01)
    epochs: 10
    batch: 32
    seed: 0
  }
}
`;

const FASHION = `// __NAME__.mex: three exits on a small CNN for Fashion-MNIST (28x28 grayscale, 10 classes).
// The data comes from Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist).
model __NAME__ {
  input [28, 28, 1]
  classes 10

  backbone {
    stage s1 { conv(32, kernel=3) bn relu maxpool(2) }  // 14x14x32
    stage s2 { conv(64, kernel=3) bn relu maxpool(2) }  // 7x7x64
    stage s3 { conv(128, kernel=3) bn relu }            // 7x7x128
  }

  // The first exit sees shallow features, so it gets a small strided conv of its own.
  exit e1 after s1 { conv(32, kernel=3, stride=2) bn relu gap dense(classes) }
  exit e2 after s2 { gap dense(classes) }
  exit e3 after s3 { gap dense(classes) }

  distill {
    teachers: last
    weight: 0.5
    temperature: adaptive(start=1, confidence=0.5, factor=1.05)
  }

  train {
    data: fashion_mnist(per_class=150, val_per_class=50)
    augment: [flip, crop(pad=2)]
    optimizer: sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=1e-4)
    schedule: multistep(milestones=[15, 22], gamma=0.1)
    epochs: 30
    batch: 64
    seed: 0
  }
}
`;

const RESNET = `// __NAME__.mex: a ResNet-style network (He et al. 2016) for 32x32 RGB images with 3 exits.
// Residual blocks add their input to their body's output; when the body changes the stride or the
// channels, the shortcut becomes an automatic 1x1 projection (conv + bn).
model __NAME__ {
  input [32, 32, 3]
  classes 10

  let w1 = 16
  let w2 = w1 * 2
  let w3 = w2 * 2

  backbone {
    // 32x32x16: stem and two identity blocks.
    stage s1 {
      conv(w1, kernel=3, bias=false) bn relu
      repeat 2 {
        residual { conv(w1, kernel=3, bias=false) bn relu conv(w1, kernel=3, bias=false) bn } relu
      }
    }
    // 16x16x32: a downsampling block (projection shortcut).
    stage s2 {
      residual {
        conv(w2, kernel=3, stride=2, bias=false) bn relu conv(w2, kernel=3, bias=false) bn
      } relu
    }
    // 8x8x64: a downsampling block (projection shortcut).
    stage s3 {
      residual {
        conv(w3, kernel=3, stride=2, bias=false) bn relu conv(w3, kernel=3, bias=false) bn
      } relu
    }
  }

  exit e1 after s1 { conv(w2, kernel=3, stride=2, bias=false) bn relu gap dense(classes) }
  exit e2 after s2 { gap dense(classes) }
  exit e3 after s3 { gap dense(classes) }

  distill {
    teachers: later  // every later exit teaches each earlier one
    weight: 0.5
    temperature: 4
  }

  train {
    data: synthetic(per_class=200, val_per_class=50)
    augment: [flip, crop(pad=4)]
    optimizer: sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=1e-4)
    schedule: cosine(min_lr=0)
    epochs: 30
    batch: 128
    seed: 0
  }
}
`;

const TEMPLATES: Record<TemplateName, string> = { quickstart: QUICKSTART, fashion: FASHION, resnet: RESNET };

/** A valid model name from a file name: `my-net` -> `my_net`, `3exit` -> `m_3exit`. */
export function modelNameFor(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `m_${cleaned}`;
}

export function renderTemplate(template: TemplateName, name: string): string {
  return TEMPLATES[template].replace(/__NAME__/g, modelNameFor(name));
}
