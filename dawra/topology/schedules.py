"""What a function that schedules jobs for later is given (dawra/topology/later.py has the group, its two queues and
the functions that consume them): :data:`SCHEDULE_LATER_ENV` and the :data:`SCHEDULE_LATER` grants, creating
schedules in the ``dawra-later`` group only and passing that group's role only. Apart from later.py so that a
function whose module later.py reads (the notifier's sending grants) can schedule too."""

from __future__ import annotations

from dawra.contracts import env as E

from .model import Arn, Grant, NamedArn, Ref

_GROUP = Ref(kind="schedule_group", id="later", attr="name")
_ROLE = Ref(kind="schedule_group", id="later", attr="role_arn")
SCHEDULE_LATER_ENV: dict[str, Ref | str] = {
    E.LATER_SCHEDULE_GROUP: _GROUP,
    E.LATER_ROLE_ARN: _ROLE,
    E.LATER_TARGET_ARN: Ref(kind="queue", id="later-jobs", attr="arn"),
    # A job that may alert operations goes to the ops-jobs queue instead (dawra.contracts.jobs.for_operations).
    E.LATER_OPS_TARGET_ARN: Ref(kind="queue", id="ops-jobs", attr="arn"),
}
SCHEDULE_LATER = (
    # arn:<partition>:scheduler:<region>:<account>:schedule/dawra-later/*: a schedule of this group, any name.
    Grant(actions=("scheduler:CreateSchedule",),
          resources=(NamedArn(service="scheduler", resource_type="schedule", name=_GROUP, suffix="/*"),)),
    # CreateSchedule names the role the schedule runs with; only the group's role may be handed to the scheduler.
    Grant(actions=("iam:PassRole",), resources=(Arn(ref=_ROLE),)),
)
