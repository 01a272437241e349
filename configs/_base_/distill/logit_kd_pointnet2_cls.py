# Logit KD (Hinton et al.) on point-cloud classifiers: softmax KL at
# temperature T between the teachers' and the student's class logits
# (`head.fc_cls`, (B, num_classes)), times T^2, next to the student's
# cross-entropy. Teacher and student must predict the same classes.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_cls=dict(
            type='KDLogitLoss',
            mode='softmax',
            temperature=4.0,
            loss_weight=1.0,
            student='head.fc_cls',
            teacher='head.fc_cls')))
