/* SPDX-License-Identifier: ISC */
/*
 * Where PHP 8.2 (non-ZTS, LP64) keeps what a slowlog trace reads: offsetof()
 * values taken from the php8.2-dev headers, and checked against them by
 * tests/fixtures/slowlog/zend-layout.c whenever those headers are installed.
 */
#ifndef FPM_SLOWLOG_ZEND82_H
#define FPM_SLOWLOG_ZEND82_H

/* ZEND_MODULE_BUILD_ID: a string in every php binary of that ABI */
#define ZEND82_BUILD_ID			"API20220829,NTS"

#define ZEND82_EG_CURRENT_EXECUTE_DATA	488	/* zend_executor_globals */
#define ZEND82_SG_PATH_TRANSLATED	40	/* sapi_globals_struct
						   .request_info */
#define ZEND82_ED_OPLINE		0	/* zend_execute_data */
#define ZEND82_ED_FUNC			24
#define ZEND82_ED_TYPE_INFO		40	/* This.u1.type_info */
#define ZEND82_ED_PREV			48	/* prev_execute_data */
#define ZEND82_FN_TYPE			0	/* zend_function */
#define ZEND82_FN_NAME			8	/* common.function_name */
#define ZEND82_FN_FILENAME		152	/* op_array.filename */
#define ZEND82_STR_LEN			16	/* zend_string */
#define ZEND82_STR_VAL			24
#define ZEND82_OP_LINENO		24	/* zend_op */

#define ZEND82_INTERNAL_FUNCTION	1	/* zend_function.type */
#define ZEND82_CALL_KIND_MASK		0x30000	/* ZEND_CALL_CODE|TOP */
#define ZEND82_CALL_NESTED_CODE		0x10000
#define ZEND82_CALL_TOP_CODE		0x30000

#endif
