"""dvcwatch load test of a DVC portal (Cổng dịch vụ công).

Citizens visit the 25 essential services in the field's proportions; the load follows the
profile named by --dvc-profile (loadtests/profiles/*.yaml); at the end the SLO gates in
loadtests/gates/*.yaml decide the exit code and the capacity report goes to --dvc-out.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8480            (web UI)
    locust -f loadtests/locustfile.py --headless --host URL --dvc-profile monday-rush
    locust -f loadtests/locustfile.py --headless --host URL --dvc-flows flows/   (recorded flows)
    dvcwatch load --profile stepped-ramp --host URL                            (the usual way)
"""

from loadtests import hooks
from loadtests.citizens import Citizen, SurgeCitizen
from loadtests.flow_user import FlowUser
from loadtests.locust_shape import ProfileShape

hooks.install()

__all__ = ["Citizen", "FlowUser", "ProfileShape", "SurgeCitizen"]
