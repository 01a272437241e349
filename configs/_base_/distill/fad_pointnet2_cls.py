# FAD (feature adversarial distillation; our design, see
# projects/FAD/README.md) on point-cloud classifiers: the teacher's global
# feature (the `neck` output, (B, 1024) for PointNet++ SSG) is "real", the
# student's global feature through a ChannelAdapter (linear + ReLU: the
# teacher's max-pooled features are non-negative) to the teacher's width is
# "fake"; both are L2-normalised; a spectrally normalised MLP discriminator
# learns to tell them apart and the student learns to fool it (plus its
# own cross-entropy). (A plain linear adapter without normalisation, an
# unconstrained discriminator and loss_weight=0.5 let the discriminator win
# at once and cost the student accuracy: see the README.)
#
# Student and discriminator use separate optimizers, updated alternately by
# AdversarialDistiller3D. mmengine forbids the same key in two _base_ files,
# so the final config sets:
#   optim_wrapper = dict(
#       _delete_=True,
#       constructor='AdversarialOptimWrapperConstructor',
#       student=dict(type='OptimWrapper', optimizer=...),
#       discriminator=dict(type='OptimWrapper', optimizer=...))
runner_type = 'Distill3DRunner'
# distributed runs: the distiller's own alternating train_step on every
# rank, gradients averaged per update (mmengine's DDP wrapper runs one
# update with one optimizer)
model_wrapper_cfg = dict(type='AdversarialDistillerDDP')
distiller = dict(
    type='AdversarialDistiller3D',
    disc_steps=1,
    distill_losses=dict(
        loss_kd_fad=dict(
            type='FeatureAdversarialLoss',
            gan_type='vanilla',  # or 'lsgan', 'hinge'
            loss_weight=0.1,
            disc_loss_weight=1.0,
            normalize=True,
            student='neck',
            teacher='neck',
            adapter=dict(type='ChannelAdapter', act=True),
            discriminator=dict(
                type='FeatureDiscriminator',
                hidden_channels=(256, 64),
                spectral_norm=True))))
