@operation:delete-task
Feature: Delete a task
  `DELETE /v1/{project_id}/objectstorage/task/{task_id}` (oms_api_0015) and its
  current form `DELETE /v2/{project_id}/tasks/{task_id}` delete a migration
  task. The harness runs this file once per dialect the target serves; a rule
  or scenario that holds in one dialect only is tagged `@api:`. Every rule
  below is a rule of the catalogue, tagged with its id;
  every scenario cites the spec sentences it checks. Each scenario creates its
  own tasks in a project of the target profile, and the harness stops and deletes
  them afterwards, whatever the outcome. Where a scenario does not name a project,
  the harness picks one of the profile's projects for it.

  @OMS-DEL-001
  Rule: Deleting an existing task that is not running succeeds with a 2xx and no body

    @spec:S1 @spec:S5 @spec:S6
    Scenario: a stopped task is deleted with an empty answer
      Given a stopped task
      When the task is deleted
      Then the delete succeeds with no body

  @OMS-DEL-002
  Rule: After a successful delete the task is gone, and a second delete of it fails

    @spec:S1
    Scenario: a deleted task is gone from query, list and count
      Given a stopped task
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

    @spec:S1
    Scenario: a second delete of the same task is refused with an error body
      Given a stopped task
      And the task has been deleted
      When the task is deleted
      Then the delete is refused as a missing task

  @OMS-DEL-003
  Rule: Deleting a running task fails with a 4xx and an error body

    @spec:S2
    Scenario: a running task cannot be deleted
      Given a running task
      When the task is deleted
      Then the delete is refused as a running task

  @OMS-DEL-004
  Rule: A refused delete changes nothing

    @spec:S2
    Scenario: a running task survives a refused delete, stays listed and keeps moving
      Given a running task
      When the task is deleted
      Then the delete is refused
      And the task is intact
      And the task is listed
      And the task's progress keeps moving

  @OMS-DEL-005
  Rule: A task in each non-running state can be deleted

    @spec:S1 @spec:S2
    Scenario: a stopped task can be deleted
      Given a stopped task
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

    @spec:S1 @spec:S2 @needs:failing-task
    Scenario: a failed task can be deleted
      Given a failed task
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

    @spec:S1 @spec:S2
    Scenario: a succeeded task can be deleted
      Given a succeeded task
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

  @OMS-DEL-006
  Rule: A task that is initializing or waiting to be scheduled can be deleted

    @spec:S2 @spec:API-4 @serial @needs:quota
    Scenario: a task waiting to be scheduled can be deleted
      Given the parallel-task quota is filled with running tasks
      And a task waiting to be scheduled
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

    @spec:S2 @spec:API-4 @serial @needs:quota @api:v1
    Scenario: an initializing task can be deleted
      Given the parallel-task quota is filled with running tasks
      And an initializing task
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

  @OMS-DEL-007
  Rule: The documented remedy works: stop a running task, then delete it

    @spec:S2 @spec:API-4 @api:v1
    Scenario: a running task, once stopped, can be deleted and is gone
      Given a running task
      When the task is stopped
      Then the task becomes stopped
      When the task is deleted
      Then the delete succeeds with no body
      And the task is gone

    # v2's wording (`oms-v2-api.md` §7): after status 3 a delete refused as in
    # progress is sent again within the profile's after-stop window, as the
    # Terraform provider does; each try is in the scenario's exchange log.
    @spec:S2 @spec:API-4 @api:v2
    Scenario: a running task, once stopped, can be deleted and is gone, a delete refused as in progress sent again
      Given a running task
      When the task is stopped
      Then the task becomes stopped
      When the task is deleted, and deleted again while it is refused as in progress
      Then the delete succeeds with no body
      And the task is gone

  @OMS-DEL-008
  Rule: Deleting a well-formed id that does not exist fails with a 4xx and an error body

    @spec:S3 @spec:S6
    Scenario: a well-formed id that no task has is refused
      Given a well-formed task id that no task has
      When the task is deleted
      Then the delete is refused as a missing task

    @spec:S3 @spec:S6
    Scenario: the id of a task already deleted is refused
      Given a stopped task
      And the task has been deleted
      When the task is deleted
      Then the delete is refused as a missing task

  @OMS-DEL-009
  Rule: Deleting with a malformed task id fails with a 4xx and an error body, and deletes nothing

    @spec:S3
    Scenario: the catalogue's malformed task ids are refused
      Given a stopped task
      When the catalogue's malformed task ids are deleted
      Then every delete is refused as a malformed task id
      And the task is intact

    @spec:S3
    Scenario: generated malformed task ids are refused
      Given a stopped task
      When the generated malformed task ids are deleted
      Then every delete is refused as a malformed task id
      And the task is intact

  @OMS-DEL-010
  Rule: A task cannot be deleted through another project's path

    @spec:S3 @needs:second-project
    Scenario: the other project's path with the other project's credentials is refused
      Given a stopped task in the first project
      When the task is deleted through the second project's path with the second project's credentials
      Then the delete is refused across projects
      And the task is intact

    @spec:S3 @needs:second-project
    Scenario: the other project's path with the task's own project credentials is refused
      Given a stopped task in the first project
      When the task is deleted through the second project's path with the first project's credentials
      Then the delete is refused across projects
      And the task is intact

    @spec:S3 @api:v2 @needs:second-project @needs:aksk
    Scenario: a signed delete whose X-Project-Id names the other project is refused
      Given a stopped task in the first project
      When the task is deleted with its own project's signature and the second project's X-Project-Id
      Then the delete is refused across projects
      And the task is intact

  @OMS-DEL-011
  Rule: A delete without valid credentials answers 401 or 403 with an error body and changes nothing

    @spec:S6 @spec:API-5
    Scenario Outline: a delete with <credentials> is refused
      Given a stopped task
      When the task is deleted with <credentials>
      Then the delete is refused as unauthenticated
      And the task is intact

      Examples:
        | credentials           |
        | no credentials        |
        | a bad token           |
        | a bad AK/SK signature |

    @spec:S6 @spec:API-5 @needs:aksk
    Scenario Outline: a delete with <signature> is refused
      Given a stopped task
      When the task is deleted with <signature>
      Then the delete is refused as <refusal>
      And the task is intact

      Examples:
        | signature                                | refusal                  |
        | a tampered signature                     | unauthenticated          |
        | a signature made with a wrong secret key | unauthenticated          |
        | a signature dated 30 minutes ago         | signed at the wrong time |
        | a signature dated 30 minutes ahead       | signed at the wrong time |

  @OMS-DEL-012
  Rule: Deleting one task leaves every other task intact

    @spec:S1 @serial
    Scenario: the id neighbours and a task in another state stay intact
      Given three tasks created one after another, each stopped
      And a running task
      When the middle task is deleted
      Then the delete succeeds with no body
      And every other task is intact

    @spec:S1 @needs:second-project
    Scenario: a task in the other project stays intact
      Given a stopped task in the first project
      And a succeeded task in the second project
      When the first task is deleted
      Then the delete succeeds with no body
      And every other task is intact

  @OMS-DEL-013
  Rule: Simultaneous deletes of one task give exactly one success

    @spec:S1 @settles
    Scenario: 8 simultaneous deletes of a stopped task
      Given a stopped task
      When the task is deleted by 8 simultaneous requests
      Then exactly one delete succeeds and every other is refused with an error body
      And the task is gone
      And the task stays gone over the settle period

  @OMS-DEL-014
  Rule: A delete racing a stop on a running task leaves a consistent outcome

    @spec:S1 @spec:S2 @settles
    Scenario: deletes spread over the whole span of a stop
      Given a running task
      When the task is stopped while deletes of it are sent before, during and after the stop
      Then the outcome of every race is consistent

  @OMS-DEL-015
  Rule: A delete carrying unexpected input is handled as without it, or refused with a 4xx

    @spec:S4
    Scenario Outline: a delete carrying <extra>
      Given a stopped task
      When the task is deleted with <extra>
      Then the unexpected input is ignored or refused

      Examples:
        | extra                     |
        | an unexpected JSON body   |
        | an unexpected query string |

  @OMS-DEL-016
  Rule: Every answer carries X-Request-Id, and every error answer is a JSON error body

    @spec:API-6
    Scenario: a successful delete answer carries a request id
      Given a stopped task
      When the task is deleted
      Then the answer carries a request id

    @spec:API-5 @spec:API-6
    Scenario: a refused delete answer is a JSON error body with a request id
      Given a running task
      When the task is deleted
      Then the answer is a JSON error body with a request id

    @spec:API-5 @spec:API-6 @whole-run
    Scenario: every delete answer of the run carries a request id, and every error is a JSON error body
      Given every other scenario of the run has finished
      Then every delete answer of the run carries a request id
      And every delete error answer of the run is a JSON error body

  @OMS-DEL-017
  Rule: No delete request of the run is answered with a 5xx

    @spec:S6 @whole-run
    Scenario: no delete answer of the whole run is a 5xx
      Given every other scenario of the run has finished
      Then no delete answer of the run is a 5xx

  # ----- v2 only (`oms-v2-api.md` §7): each rule names its dialect with @api:v2.

  @OMS-DEL-018 @api:v2
  Rule: A task pausing or retrying is refused with an error body, or if the delete is accepted it is gone; never a 5xx

    @spec:V2 @spec:API2-3
    Scenario: a pausing task is refused, or deleted and gone
      Given a pausing task
      When the task is deleted
      Then the delete is refused as a pausing task, or the task is gone

    @spec:V2 @spec:API2-3 @needs:retrying-task
    Scenario: a retrying task is refused, or deleted and gone
      Given a retrying task
      When the task is deleted
      Then the delete is refused, or the task is gone

  @OMS-DEL-019 @api:v2
  Rule: The requests real clients send delete a deletable task

    @spec:V5 @spec:API2-5
    Scenario Outline: a stopped task is deleted by the <client>-shaped request
      Given a stopped task
      When the task is deleted by the <client>-shaped request
      Then the delete succeeds with no body
      And the task is gone

      Examples:
        | client    |
        | SDK       |
        | Terraform |

  @OMS-DEL-020 @api:v2
  Rule: The list's count is the number of tasks on its pages, and a delete takes one from both

    @spec:API2-2.4
    Scenario: the count and the pages both drop by one on a delete
      Given a stopped task
      When the task is deleted between two counts of its project
      Then the delete succeeds with no body
      And the count and the list both dropped by one

    @spec:API2-2.4
    Scenario: a list filtered by status counts and lists only tasks in that status
      Given a stopped task
      And a running task
      Then the list filtered by the task's status counts and lists only tasks in that status

  @OMS-DEL-021 @api:v2
  Rule: A DELETE on a route beside a task's own deletes nothing and answers a 4xx

    @spec:API2-2 @spec:V6
    Scenario: DELETE on the collection, a sibling route and the task's actions deletes nothing
      Given a stopped task
      When a DELETE is sent to each route beside the task
      Then every such delete is refused with an error body
      And the task is intact
      And the task is listed

  @OMS-DEL-023 @api:v2
  Rule: A task is one task whichever version created it: seen through both, and gone through both once deleted

    @spec:API2-6 @needs:both-dialects
    Scenario: a task created through v1 is seen, deleted and gone through v2
      Given a stopped task created through v1
      Then the task is visible through v2
      When the task is deleted through v2
      Then the delete succeeds with no body
      And the task is gone through v2
      And the task is gone through v1

    @spec:API2-6 @needs:both-dialects
    Scenario: a task created through v2 is seen, deleted and gone through v1
      Given a stopped task created through v2
      Then the task is visible through v1
      When the task is deleted through v1
      Then the delete succeeds with no body
      And the task is gone through v1
      And the task is gone through v2

  @OMS-DEL-024
  Rule: A delete racing a start, or the engine's own end of a task, leaves a consistent outcome

    @spec:S1 @spec:S2 @settles
    Scenario: deletes spread over the span of a start, in four rounds
      Given 4 stopped tasks
      When each task is started while deletes of it are sent before, during and after the start
      Then the outcome of every race is consistent

    @spec:S1 @spec:S2 @settles
    Scenario: deletes spread over the moment a task ends by itself
      Given a running task that will succeed
      When deletes of the task are sent across the moment it ends
      Then the outcome of every race is consistent
